// m365-audit in the organisation's own Azure subscription: a Flex Consumption Function App (Linux,
// Node 22) with a system-assigned managed identity, its storage account (host storage, deployment
// package, ledger tables, report blobs, queues), Application Insights on a Log Analytics workspace,
// a Key Vault (RBAC mode) for the webhook URLs and secrets, and the Microsoft Graph application
// permissions of the identity (modules/graph-permissions.bicep).
//
// Deploy: infra/README.md. Resource shapes follow Microsoft Learn "Automate resource deployment for
// your function app in Azure Functions" (Flex Consumption pivot: functionAppConfig with deployment
// storage, runtime and scaleAndConcurrency; sku FC1) and the Azure-Samples
// azure-functions-flex-consumption-samples Bicep it points to.
//
// App setting names are exactly the ones src/config/settings.ts reads (SETTING_NAMES) plus the
// Functions host's own; tests/infra/templates.test.ts checks this file against the code.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

@description('Azure region of every resource (one that offers Flex Consumption: az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('Prefix of the resource names; a hash of the resource group id is appended so names are unique.')
@minLength(3)
@maxLength(12)
param baseName string = 'm365audit'

@description('Tags put on every resource.')
param tags object = {}

@description('AZURE_TENANT_ID: the Entra tenant scanned (default: the tenant of this subscription).')
param tenantId string = tenant().tenantId

@description('M365_AUDIT_POLICY_FILE: the policy file, relative to the app root (it ships in the deployment package).')
param policyFile string = 'policy.yaml'

@description('M365_AUDIT_REPORT_URL: where people open the scan report (SharePoint, or blob storage behind Entra sign-in; never a SAS URL). Empty: no link on alert cards.')
param reportUrl string = ''

@description('M365_AUDIT_DIGEST_URL: where people open a month\'s CISO digest, {month} standing for YYYY-MM (SharePoint, or blob storage behind Entra sign-in; never a SAS URL). Empty: the digest card carries no link.')
param digestUrl string = ''

@description('M365_AUDIT_PLANNER_PLAN_ID: the Planner plan tickets go to (with plannerBucketId; both or neither). Grant the "tickets" area with it.')
param plannerPlanId string = ''

@description('M365_AUDIT_PLANNER_BUCKET_ID: the bucket of that plan.')
param plannerBucketId string = ''

@description('M365_AUDIT_LICENCE_COUNT: the tenant\'s licence count, which sets SharePoint\'s resource-unit band. 0: estimated from the directory.')
@minValue(0)
param licenceCount int = 0

@description('M365_AUDIT_SIGNIN_OVERLAP_MINUTES: minutes each sign-in watch re-reads before its watermark (late sign-ins).')
@minValue(0)
@maxValue(1440)
param signInOverlapMinutes int = 120

@description('M365_AUDIT_SIGNIN_SOURCE: where the sign-in watch reads sign-ins. graph (default): auditLogs/signIns every 15 minutes. eventhub: an Event Hub namespace is created for the Entra diagnostic setting to stream SignInLogs to, and the signInStream function reads it (README "Sign-ins at volume").')
@allowed([
  'graph'
  'eventhub'
])
param signInSource string = 'graph'

@description('M365_AUDIT_SHARD_MAILBOXES: with scanShards=on, mailboxes per inbox-rules shard (the mail slice is split into ranges this large; a tenant with fewer is one shard). 0: the default, 1000 (README "Shards").')
@minValue(0)
param shardMailboxes int = 0

@description('M365_AUDIT_SHARD_SITES: with scanShards=on, sites (each with all its drives) per files-sharing shard. 0: the default, 200 (README "Shards").')
@minValue(0)
param shardSites int = 0

@description('M365_AUDIT_SCAN_SHARDS: on splits the daily and on-demand scans into one shard per slice on the queue m365-audit-scan-shards (scanShard; poison queue m365-audit-scan-shards-poison, scanShardPoison), so the Functions host scales them out; off (default): one invocation per scan (README "Shards"). The host creates both queues on first use; the identity already has Storage Queue Data Contributor.')
@allowed([
  'off'
  'on'
])
param scanShards string = 'off'

@description('With signInSource eventhub: days the event hub keeps sign-ins it could not deliver yet (Standard tier: 1 to 7).')
@minValue(1)
@maxValue(7)
param signInHubRetentionDays int = 7

@description('M365_AUDIT_MAIL_SENDER: the mailbox (UPN) the CISO digest is sent from. Empty: the digest is stored but not mailed.')
param mailSender string = ''

@description('M365_AUDIT_GRAPH_URL: another Graph root, for a national cloud (e.g. https://graph.microsoft.us). Empty: global Graph.')
param graphUrl string = ''

@description('AZURE_AUTHORITY_HOST: the token authority, for a national cloud. Empty: derived from the Graph host.')
param authorityHost string = ''

// Schedules are NCRONTAB ({second} {minute} {hour} {day} {month} {day-of-week}) in UTC:
// WEBSITE_TIME_ZONE is not supported on Linux / Flex Consumption. JST = UTC+9, no daylight saving.
@description('M365_AUDIT_SCHEDULE_TENANT_SCAN: the daily tenant scan, NCRONTAB in UTC. Default 18:00 UTC = 03:00 JST.')
param scheduleTenantScan string = '0 0 18 * * *'

@description('M365_AUDIT_SCHEDULE_SIGNIN_WATCH: the sign-in watch, NCRONTAB in UTC. Default every 15 minutes (the same in JST).')
param scheduleSignInWatch string = '0 */15 * * * *'

@description('M365_AUDIT_SCHEDULE_MONTHLY_DIGEST: the CISO digest, NCRONTAB in UTC. Default 00:00 UTC on the 1st = 09:00 JST on the 1st.')
param scheduleMonthlyDigest string = '0 0 0 1 * *'

@description('Set TEAMS_WEBHOOK_URL to the Key Vault secret "teams-webhook-url". Put the secret first (or pass teamsWebhookUrl): an unresolved reference leaves the app setting holding the reference text.')
param enableTeamsAlerts bool = false

@secure()
@description('Optional first value of the "teams-webhook-url" secret. Empty: the template leaves the secret alone (put it with az keyvault secret set).')
param teamsWebhookUrl string = ''

@description('Set M365_AUDIT_TICKET_WEBHOOK_URL to the Key Vault secret "ticket-webhook-url".')
param enableTicketWebhook bool = false

@description('With enableTicketWebhook: also set M365_AUDIT_TICKET_WEBHOOK_SECRET to the secret "ticket-webhook-secret" (HMAC signature of each ticket).')
param signTicketWebhook bool = true

@secure()
@description('Optional first value of the "ticket-webhook-url" secret.')
param ticketWebhookUrl string = ''

@secure()
@description('Optional first value of the "ticket-webhook-secret" secret.')
param ticketWebhookSecret string = ''

// How the app reaches its ledger (tables and report blobs). The Functions HOST always uses the
// identity (AzureWebJobsStorage__accountName), and so does the app's Store.connect
// (src/store/store.ts, DefaultAzureCredential on the endpoints derived from that setting): with
// 'identity' (the default) shared-key access is off and no connection string exists anywhere.
// 'connectionString' keeps shared-key access on, writes a key-based connection string into Key
// Vault and points AZURE_STORAGE_CONNECTION_STRING at it (for a deployer who needs keys).
@description('Ledger storage access: identity (the default: the managed identity, no keys at all) or connectionString (shared-key access on, a connection string in Key Vault).')
@allowed([
  'connectionString'
  'identity'
])
param ledgerStorageAuth string = 'identity'

@description('Grant the Graph application permissions through the Microsoft Graph Bicep extension (needs a Privileged Role Administrator as deployer). false: run grant-graph-permissions.sh instead.')
param grantGraphPermissions bool = true

// Least privilege: grant only the areas the app runs. 'tickets' only with the Planner sink;
// 'digest' (Mail.Send for ALL mailboxes) only if Exchange RBAC for Applications is not used to
// scope Mail.Send to the sender mailbox (infra/README.md).
@description('Areas whose Graph permissions are granted (graph-permissions.json): accounts, mfa, roles, mail, signins, files, apps, tickets, digest.')
@allowed([
  'accounts'
  'mfa'
  'roles'
  'mail'
  'signins'
  'files'
  'apps'
  'tickets'
  'digest'
])
param graphPermissionAreas array = [
  'accounts'
  'mfa'
  'roles'
  'mail'
  'signins'
  'files'
  'apps'
]

@description('The Sites permission of the files area: Sites.Read.All (least privilege; sharing-only changes seen at the periodic full read) or Sites.FullControl.All (every scan complete; m365-audit never writes).')
@allowed([
  'Sites.Read.All'
  'Sites.FullControl.All'
])
param filesSitesPermission string = 'Sites.Read.All'

@description('Object id of a user or group given Key Vault Secrets Officer on the vault, to put and rotate the secrets. Empty: none (assign it yourself).')
param secretsOfficerPrincipalId string = ''

@description('Principal type of secretsOfficerPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param secretsOfficerPrincipalType string = 'User'

@description('Key Vault purge protection. true keeps deleted secrets for the retention period even from administrators, but then the vault name cannot be reused for 90 days after removal.')
param keyVaultPurgeProtection bool = false

@description('Flex Consumption: the most instances the app scales out to (the ledger lease keeps runs from overlapping anyway).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Flex Consumption: memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

// The standard (5-3-2: ログは改ざん防止に配慮して保管し、保管期間を定める) asks for a retention period but
// names none; five years is our default (a local government's records are commonly kept five
// years), and the organisation sets its own. 146000 days is Azure's maximum for the policy.
@description('Days each evidence record (container evidence) stays immutable after it is written: it can be neither overwritten nor deleted until then (time-based retention policy).')
@minValue(1)
@maxValue(146000)
param evidenceRetentionDays int = 1825

@description('Days the Log Analytics workspace keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 90

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

var suffix = uniqueString(resourceGroup().id)
var compactBase = toLower(replace(baseName, '-', ''))
var appName = '${baseName}-${suffix}'
var storageName = take('st${compactBase}${suffix}', 24)
var keyVaultName = take('kv-${compactBase}-${suffix}', 24)
var deploymentContainerName = 'app-package'
var streamSignIns = signInSource == 'eventhub'
var eventHubNamespaceName = 'evhns-${compactBase}-${suffix}'
var signInHubName = 'entra-signins'
var signInConsumerGroup = 'm365-audit'

// Built-in role definition ids (Microsoft Learn "Azure built-in roles").
var roleIds = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  eventHubsDataReceiver: 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
}

// ---------------------------------------------------------------------------------------------
// Monitoring: Log Analytics + workspace-based Application Insights, Entra authentication only
// ---------------------------------------------------------------------------------------------

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${appName}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${appName}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    // Telemetry only with an Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING below), never
    // with the instrumentation key alone.
    DisableLocalAuth: true
  }
}

// ---------------------------------------------------------------------------------------------
// Storage: host storage, Flex deployment container, ledger tables and report blobs
// ---------------------------------------------------------------------------------------------

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Keys only when the ledger is told to use a connection string (ledgerStorageAuth above).
    allowSharedKeyAccess: ledgerStorageAuth == 'connectionString'
    defaultToOAuthAuthentication: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// Flex Consumption runs the package the deployment uploads here (functionAppConfig.deployment).
resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// The store's containers and tables (src/store/store.ts). Store.connect creates them too; created
// here so that they exist, private, before the first run.
resource storeContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for name in ['reports', 'state']: {
    parent: blobService
    name: name
    properties: {
      publicAccess: 'None'
    }
  }
]

// The evidence trail (src/store/evidence.ts, standard 5-3-2): create-once records with a
// container-level time-based immutability policy ("Configure immutability policies for
// containers"; resource storageAccounts/blobServices/containers/immutabilityPolicies, name
// 'default'). The records are block blobs written once with If-None-Match: *, so protected append
// writes stay off. The policy is deployed *unlocked*: an account owner can still shorten or remove
// it. Locking it is one-way (afterwards the retention can only be extended, and neither the
// container nor the account can be deleted while records are retained), so it is an operator's
// decision after a test period: `az storage container immutability-policy lock` (infra/README.md).
resource evidenceContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'evidence'
  properties: {
    publicAccess: 'None'
  }
}

resource evidenceImmutability 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = {
  parent: evidenceContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: evidenceRetentionDays
    allowProtectedAppendWrites: false
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource storeTables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for name in ['scans', 'state', 'ledger']: {
    parent: tableService
    name: name
  }
]

// ---------------------------------------------------------------------------------------------
// Key Vault (RBAC mode): the webhook URLs and secrets, referenced from app settings
// ---------------------------------------------------------------------------------------------

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // Purge protection cannot be set to false explicitly, only left out.
    enablePurgeProtection: keyVaultPurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}

// The secrets. A value passed at deployment is written as a new version; an empty one leaves the
// secret alone, so that a redeployment never overwrites a secret rotated with az keyvault secret set.
resource teamsWebhookSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(teamsWebhookUrl)) {
  parent: keyVault
  name: 'teams-webhook-url'
  properties: {
    value: teamsWebhookUrl
    contentType: 'TEAMS_WEBHOOK_URL: Teams Workflows webhook of the alerts channel'
  }
}

resource ticketWebhookUrlSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(ticketWebhookUrl)) {
  parent: keyVault
  name: 'ticket-webhook-url'
  properties: {
    value: ticketWebhookUrl
    contentType: 'M365_AUDIT_TICKET_WEBHOOK_URL: the ticket webhook'
  }
}

resource ticketWebhookSecretSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(ticketWebhookSecret)) {
  parent: keyVault
  name: 'ticket-webhook-secret'
  properties: {
    value: ticketWebhookSecret
    contentType: 'M365_AUDIT_TICKET_WEBHOOK_SECRET: HMAC key of the ticket webhook'
  }
}

// The ledger's connection string, with ledgerStorageAuth = 'connectionString'. Rewritten on each
// deployment, so that after a key rotation a redeployment brings it up to date.
resource storageConnectionSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (ledgerStorageAuth == 'connectionString') {
  parent: keyVault
  name: 'storage-connection-string'
  properties: {
    value: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'
    contentType: 'AZURE_STORAGE_CONNECTION_STRING: the ledger storage account'
  }
}

// Key Vault references use versionless secret URIs (…/secrets/<name>/): the app follows the
// newest version (rotation: infra/README.md).
var vaultUri = keyVault.properties.vaultUri

// ---------------------------------------------------------------------------------------------
// The Function App (Flex Consumption, Linux, Node 22)
// ---------------------------------------------------------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${appName}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

// App settings, by the names the code reads (src/config/settings.ts SETTING_NAMES) and the host's.
// An empty value counts as unset for the code (loadSettings), so optional settings are always
// present and a parameter left empty means "default". Not set here, on purpose:
// - FUNCTIONS_EXTENSION_VERSION, FUNCTIONS_WORKER_RUNTIME, WEBSITE_RUN_FROM_PACKAGE, WEBSITE_TIME_ZONE:
//   deprecated or unsupported on Flex Consumption (functionAppConfig.runtime replaces the first two);
// - AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_*: the system-assigned managed
//   identity is used (AZURE_CLIENT_ID would select a user-assigned identity instead);
// - AzureWebJobsStorage (a connection string): the host uses its identity (__accountName);
// - IDENTITY_ENDPOINT, MSI_ENDPOINT: set by the platform.
var appSettings = {
  // Functions host storage through the managed identity (Microsoft Learn "Connecting to host
  // storage with an identity"): no key, no connection string.
  AzureWebJobsStorage__accountName: storage.name
  APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
  // Entra authentication of telemetry (local auth is disabled on the component above).
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'

  AZURE_TENANT_ID: tenantId
  // Only with ledgerStorageAuth = 'connectionString'; the Key Vault holds it. Empty: the identity.
  AZURE_STORAGE_CONNECTION_STRING: ledgerStorageAuth == 'connectionString' ? '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/storage-connection-string/)' : ''
  M365_AUDIT_POLICY_FILE: policyFile
  M365_AUDIT_REPORT_URL: reportUrl
  M365_AUDIT_DIGEST_URL: digestUrl
  M365_AUDIT_PLANNER_PLAN_ID: plannerPlanId
  M365_AUDIT_PLANNER_BUCKET_ID: plannerBucketId
  M365_AUDIT_LICENCE_COUNT: licenceCount > 0 ? string(licenceCount) : ''
  M365_AUDIT_SIGNIN_OVERLAP_MINUTES: string(signInOverlapMinutes)
  M365_AUDIT_MAIL_SENDER: mailSender
  M365_AUDIT_SIGNIN_SOURCE: signInSource
  M365_AUDIT_SCAN_SHARDS: scanShards
  // Empty means the default (loadSettings treats an empty setting as unset).
  M365_AUDIT_SHARD_MAILBOXES: shardMailboxes == 0 ? '' : string(shardMailboxes)
  M365_AUDIT_SHARD_SITES: shardSites == 0 ? '' : string(shardSites)
  // The signInStream trigger's connection (prefix M365_AUDIT_EVENTHUB, identity-based), hub and
  // consumer group; empty with the Graph source (the function is not registered then).
  M365_AUDIT_EVENTHUB__fullyQualifiedNamespace: streamSignIns ? '${eventHubNamespaceName}.servicebus.windows.net' : ''
  M365_AUDIT_EVENTHUB_NAME: streamSignIns ? signInHubName : ''
  M365_AUDIT_EVENTHUB_CONSUMER_GROUP: streamSignIns ? signInConsumerGroup : ''
  M365_AUDIT_GRAPH_URL: graphUrl
  AZURE_AUTHORITY_HOST: authorityHost

  // Secrets: only ever Key Vault references, and only when the feature is on (an unresolved
  // reference would leave the reference text in the setting).
  TEAMS_WEBHOOK_URL: enableTeamsAlerts ? '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/teams-webhook-url/)' : ''
  M365_AUDIT_TICKET_WEBHOOK_URL: enableTicketWebhook ? '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/ticket-webhook-url/)' : ''
  M365_AUDIT_TICKET_WEBHOOK_SECRET: enableTicketWebhook && signTicketWebhook ? '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/ticket-webhook-secret/)' : ''

  // Timer schedules (the functions read them as %M365_AUDIT_SCHEDULE_…%), NCRONTAB in UTC.
  M365_AUDIT_SCHEDULE_TENANT_SCAN: scheduleTenantScan // 03:00 JST by default
  M365_AUDIT_SCHEDULE_SIGNIN_WATCH: scheduleSignInWatch // every 15 minutes
  M365_AUDIT_SCHEDULE_MONTHLY_DIGEST: scheduleMonthlyDigest // 09:00 JST on the 1st by default
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the system-assigned identity.
    keyVaultReferenceIdentity: 'SystemAssigned'
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        for setting in items(appSettings): {
          name: setting.key
          value: setting.value
        }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Azure role assignments of the app's identity
// ---------------------------------------------------------------------------------------------

// Storage Blob Data Owner: the minimum for identity-based host storage (Microsoft Learn
// "Connecting to host storage with an identity"; the timers' schedule monitor and locks are
// blobs), the Flex deployment container (the host reads the package with the identity), and the
// report blobs. Storage Queue Data Contributor: the scanNow queue and the shard queues (triggers and outputs).
// Storage Table Data Contributor: the ledger tables (identity mode) and the host's diagnostic events.
var storageRoles = [
  roleIds.storageBlobDataOwner
  roleIds.storageQueueDataContributor
  roleIds.storageTableDataContributor
]

resource storageRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in storageRoles: {
    name: guid(storage.id, app.id, roleId)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: app.identity.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Monitoring Metrics Publisher: sending telemetry with an Entra token.
resource insightsRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, app.id, roleIds.monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------
// Sign-ins at volume (signInSource = eventhub): Entra's diagnostic setting streams SignInLogs to
// this hub, and signInStream reads it with the app's identity. One partition: batches are then
// processed in order and one at a time, so the watch's detector state is never updated by two at
// once (about 1,000 events/s per throughput unit: far above a tenant's sign-in rate). The Entra
// diagnostic setting itself is a tenant-level resource (microsoft.aadiam/diagnosticSettings) that
// a resource-group deployment cannot create: infra/README.md gives the az command, with the
// authorization rule below (diagnostic settings stream with a namespace rule holding Manage,
// Send and Listen).

resource eventHubNamespace 'Microsoft.EventHub/namespaces@2024-01-01' = if (streamSignIns) {
  name: eventHubNamespaceName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
    capacity: 1
  }
  properties: {
    minimumTlsVersion: '1.2'
    // The app reads with its identity; only the diagnostic setting uses the rule below.
    disableLocalAuth: false
  }
}

resource signInHub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = if (streamSignIns) {
  parent: eventHubNamespace
  name: signInHubName
  properties: {
    partitionCount: 1
    messageRetentionInDays: signInHubRetentionDays
  }
}

resource signInHubConsumerGroup 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = if (streamSignIns) {
  parent: signInHub
  name: signInConsumerGroup
}

resource entraDiagnosticsRule 'Microsoft.EventHub/namespaces/authorizationRules@2024-01-01' = if (streamSignIns) {
  parent: eventHubNamespace
  name: 'entra-diagnostics'
  properties: {
    rights: [
      'Manage'
      'Send'
      'Listen'
    ]
  }
}

// Azure Event Hubs Data Receiver on the hub: signInStream reads with the managed identity.
resource eventHubRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (streamSignIns) {
  name: guid(signInHub.id, app.id, roleIds.eventHubsDataReceiver)
  scope: signInHub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.eventHubsDataReceiver)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault Secrets User: reading the secrets behind the Key Vault references.
resource keyVaultRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, app.id, roleIds.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault Secrets Officer for whoever puts and rotates the secrets (optional).
resource secretsOfficerRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(secretsOfficerPrincipalId)) {
  name: guid(keyVault.id, secretsOfficerPrincipalId, roleIds.keyVaultSecretsOfficer)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
    principalId: secretsOfficerPrincipalId
    principalType: secretsOfficerPrincipalType
  }
}

// ---------------------------------------------------------------------------------------------
// Microsoft Graph application permissions of the app's identity
// ---------------------------------------------------------------------------------------------

module graphPermissions 'modules/graph-permissions.bicep' = if (grantGraphPermissions) {
  name: 'graph-permissions'
  params: {
    principalId: app.identity.principalId
    areas: graphPermissionAreas
    filesSitesPermission: filesSitesPermission
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs (no secrets)
// ---------------------------------------------------------------------------------------------

@description('The Function App\'s name (for az functionapp deployment source config-zip).')
output functionAppName string = app.name

@description('Object id of the app\'s managed identity (for grant-graph-permissions.sh and Exchange RBAC for Applications).')
output principalId string = app.identity.principalId

@description('The Key Vault holding the secrets.')
output keyVaultName string = keyVault.name

@description('The storage account (ledger tables, report blobs, host storage, deployment package).')
output storageAccountName string = storage.name

@description('The Graph application permissions granted by this deployment (empty when grantGraphPermissions is false).')
output graphRoles array = grantGraphPermissions ? graphPermissions.outputs.roles : []

@description('With signInSource eventhub: the authorization rule id and hub name for the Entra diagnostic setting (infra/README.md, "Sign-ins from an Event Hub").')
output signInDiagnosticTarget object = streamSignIns ? {
  eventHubAuthorizationRuleId: entraDiagnosticsRule.id
  eventHubName: signInHubName
} : {}
