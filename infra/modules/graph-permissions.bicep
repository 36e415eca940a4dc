// Microsoft Graph application permissions (app roles) for the Function App's managed identity.
//
// Syntax from Microsoft Learn:
// - "Use Bicep extensions" (Azure Resource Manager docs): `extension <alias>`, the alias declared in
//   bicepconfig.json ("microsoftGraphV1" -> br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:<version>).
// - "Use dynamic types for Microsoft Graph Bicep resources" (Microsoft Graph Bicep docs): the
//   versioned v1.0 types and the `@v1.0` resource API version.
// - "Microsoft.Graph/servicePrincipals" and "Microsoft.Graph/appRoleAssignedTo" (Microsoft Graph
//   Bicep resource reference): an existing service principal is looked up by `appId`;
//   appRoleAssignedTo takes principalId, resourceId (the Graph service principal's id) and appRoleId.
//
// Who can deploy this: the deploying user needs AppRoleAssignment.ReadWrite.All and
// Application.Read.All (the appRoleAssignedTo reference's "least privileged permissions"), which in
// practice means the Entra role Privileged Role Administrator (or Global Administrator). A deployer
// without it sets grantGraphPermissions=false in main.bicep and an administrator runs
// ../grant-graph-permissions.sh, which reads the same ../graph-permissions.json.

extension microsoftGraphV1

@description('Object id of the service principal receiving the roles (the Function App\'s system-assigned identity).')
param principalId string

@description('Areas whose permissions are granted (keys of graph-permissions.json "areas").')
param areas array

@description('The Sites permission for the files area: Sites.Read.All or Sites.FullControl.All (graph-permissions.json "choices.files").')
param filesSitesPermission string

// The one source of truth for the per-area lists (the script reads the same file).
var permissions = loadJsonContent('../graph-permissions.json')

// One list per area, flattened; union() drops duplicates (AuditLog.Read.All is in several areas).
var areaRoles = flatten(map(areas, area => permissions.areas[area]))
var sitesRole = contains(areas, 'files') ? [filesSitesPermission] : []
var roles = union(areaRoles, sitesRole)

// Microsoft Graph's own service principal in the tenant (its appId is the same everywhere).
resource graph 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: permissions.graphAppId
}

// One assignment per role. The role's id is looked up by its value on the Graph service principal,
// so the template carries names (reviewable) rather than GUIDs.
resource grants 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [
  for role in roles: {
    principalId: principalId
    resourceId: graph.id
    appRoleId: filter(graph.appRoles, r => r.value == role)[0].id
  }
]

@description('The Graph application permissions granted.')
output roles array = roles
