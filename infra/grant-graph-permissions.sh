#!/usr/bin/env bash
# Grants the Function App's managed identity its Microsoft Graph application permissions with
# `az rest`, for deployers who cannot use the Microsoft Graph Bicep extension (main.bicep with
# grantGraphPermissions=false). It reads the same per-area lists as the Bicep module:
# graph-permissions.json beside this script. Idempotent: roles already assigned are skipped, so it
# can be run again after adding an area. Run it as a Privileged Role Administrator (or Global
# Administrator), signed in with `az login`.
#
# Graph calls (Microsoft Graph v1.0): GET /servicePrincipals(appId='…') for Graph's app roles,
# GET /servicePrincipals/{id}/appRoleAssignments for what the identity holds,
# POST /servicePrincipals/{id}/appRoleAssignments ("Grant an appRoleAssignment to a service
# principal"), and with --prune DELETE /servicePrincipals/{id}/appRoleAssignments/{assignmentId}.
#
# Needs: az (Azure CLI) and jq.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: grant-graph-permissions.sh (--principal-id OBJECT_ID | --resource-group RG --app-name APP)
                                  [--areas accounts,mfa,roles,mail,signins,files,apps]
                                  [--files-permission Sites.Read.All|Sites.FullControl.All]
                                  [--graph-url https://graph.microsoft.com] [--prune] [--dry-run] [--print-roles]

  --principal-id      object id of the managed identity (main.bicep output principalId)
  --resource-group,
  --app-name          or look the identity up from the Function App
  --areas             comma-separated areas of graph-permissions.json (default: the seven scan areas;
                      add tickets for the Planner sink; digest grants Mail.Send for ALL mailboxes —
                      prefer Exchange RBAC for Applications, infra/README.md)
  --files-permission  the Sites permission of the files area (default Sites.Read.All)
  --graph-url         Graph root of a national cloud (default https://graph.microsoft.com)
  --prune             also remove Graph app roles the identity holds that the areas do not need
  --dry-run           say what would change, change nothing
  --print-roles       print the roles the areas need, one a line, and exit (no az calls)
EOF
}

die() {
  echo "grant-graph-permissions: $*" >&2
  exit 1
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
permissions_file="$here/graph-permissions.json"

principal_id=""
resource_group=""
app_name=""
areas="accounts,mfa,roles,mail,signins,files,apps"
files_permission="Sites.Read.All"
graph_url="https://graph.microsoft.com"
prune=false
dry_run=false
print_roles=false

while [ $# -gt 0 ]; do
  case "$1" in
    --principal-id) principal_id="${2:-}"; shift 2 ;;
    --resource-group) resource_group="${2:-}"; shift 2 ;;
    --app-name) app_name="${2:-}"; shift 2 ;;
    --areas) areas="${2:-}"; shift 2 ;;
    --files-permission) files_permission="${2:-}"; shift 2 ;;
    --graph-url) graph_url="${2%/}"; shift 2 ;;
    --prune) prune=true; shift ;;
    --dry-run) dry_run=true; shift ;;
    --print-roles) print_roles=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

command -v jq >/dev/null || die "jq is required (apt-get install jq; Azure Cloud Shell has it)"
[ -f "$permissions_file" ] || die "graph-permissions.json not found beside this script ($permissions_file)"

# The roles the chosen areas need, deduplicated, in a stable order.
known_areas="$(jq -r '.areas | keys | join(",")' "$permissions_file")"
IFS=',' read -r -a area_list <<<"$areas"
[ "${#area_list[@]}" -gt 0 ] || die "--areas: name at least one area ($known_areas)"
for area in "${area_list[@]}"; do
  jq -e --arg a "$area" '.areas | has($a)' "$permissions_file" >/dev/null || die "--areas: unknown area '$area' (known: $known_areas)"
done
jq -e --arg p "$files_permission" '.choices.files | index($p) != null' "$permissions_file" >/dev/null ||
  die "--files-permission: must be one of $(jq -r '.choices.files | join(", ")' "$permissions_file")"
roles="$(jq -r --arg areas "$areas" --arg sites "$files_permission" '
  ($areas | split(",")) as $chosen
  | [ $chosen[] as $a | .areas[$a][] ] + (if ($chosen | index("files")) != null then [$sites] else [] end)
  | reduce .[] as $r ([]; if index($r) == null then . + [$r] else . end)
  | .[]' "$permissions_file")"

if $print_roles; then
  printf '%s\n' "$roles"
  exit 0
fi

command -v az >/dev/null || die "the Azure CLI (az) is required"

if [ -z "$principal_id" ]; then
  [ -n "$resource_group" ] && [ -n "$app_name" ] || { usage >&2; die "give --principal-id, or --resource-group and --app-name"; }
  principal_id="$(az functionapp identity show --resource-group "$resource_group" --name "$app_name" --query principalId --output tsv)"
  [ -n "$principal_id" ] || die "the Function App $app_name has no system-assigned identity (deploy main.bicep first)"
fi

graph_app_id="$(jq -r '.graphAppId' "$permissions_file")"
graph_sp="$(az rest --method GET --url "$graph_url/v1.0/servicePrincipals(appId='$graph_app_id')?\$select=id,appRoles")"
graph_sp_id="$(jq -r '.id' <<<"$graph_sp")"
[ -n "$graph_sp_id" ] && [ "$graph_sp_id" != null ] || die "Microsoft Graph's service principal was not found in this tenant"

assigned="$(az rest --method GET --url "$graph_url/v1.0/servicePrincipals/$principal_id/appRoleAssignments")"

wanted_ids=()
granted=0
skipped=0
while IFS= read -r role; do
  [ -n "$role" ] || continue
  role_id="$(jq -r --arg v "$role" '[.appRoles[] | select(.value == $v and ((.allowedMemberTypes // ["Application"]) | index("Application") != null))][0].id // empty' <<<"$graph_sp")"
  [ -n "$role_id" ] || die "Graph has no application permission named $role (check graph-permissions.json)"
  wanted_ids+=("$role_id")
  if jq -e --arg r "$role_id" --arg g "$graph_sp_id" '[.value[] | select(.appRoleId == $r and .resourceId == $g)] | length > 0' <<<"$assigned" >/dev/null; then
    echo "already assigned: $role"
    skipped=$((skipped + 1))
    continue
  fi
  if $dry_run; then
    echo "would assign: $role"
  else
    body="$(jq -n --arg p "$principal_id" --arg g "$graph_sp_id" --arg r "$role_id" '{principalId: $p, resourceId: $g, appRoleId: $r}')"
    az rest --method POST --url "$graph_url/v1.0/servicePrincipals/$principal_id/appRoleAssignments" \
      --headers 'Content-Type=application/json' --body "$body" --output none
    echo "assigned: $role"
  fi
  granted=$((granted + 1))
done <<<"$roles"

removed=0
if $prune; then
  wanted_json="$(printf '%s\n' "${wanted_ids[@]}" | jq -R . | jq -s .)"
  # Only Graph's roles: assignments to other APIs are not this script's business.
  while IFS=$'\t' read -r assignment_id role_id; do
    [ -n "$assignment_id" ] || continue
    role_name="$(jq -r --arg r "$role_id" '[.appRoles[] | select(.id == $r)][0].value // $r' <<<"$graph_sp")"
    if $dry_run; then
      echo "would remove: $role_name"
    else
      az rest --method DELETE --url "$graph_url/v1.0/servicePrincipals/$principal_id/appRoleAssignments/$assignment_id" --output none
      echo "removed: $role_name"
    fi
    removed=$((removed + 1))
  done < <(jq -r --arg g "$graph_sp_id" --argjson w "$wanted_json" '.value[] | select(.resourceId == $g and ((.appRoleId as $r | $w | index($r)) == null)) | [.id, .appRoleId] | @tsv' <<<"$assigned")
fi

verb="assigned"
$dry_run && verb="to assign"
echo "done: $granted $verb, $skipped already assigned$($prune && echo ", $removed removed")"
