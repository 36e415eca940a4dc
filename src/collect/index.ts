/** Every collector by slice name. */
import { collectAppGrants, collectAuthorizationPolicy } from './apps';
import type { Collector } from './context';
import { collectConditionalAccess, collectDirectory, collectDomains, collectMfaRegistration, collectRoleAssignmentInstances, collectRoles, collectSecurityDefaults, collectSignInActivity, collectUsers } from './identity';
import { collectSharepointSettings, collectSharing, collectSites } from './files';
import { collectMailRules } from './mail';
import { collectMailAuthentication } from './mail-auth';
import { collectSignIns } from './signins';
import type { SliceName } from './snapshot';

export const COLLECTORS: { [K in SliceName]: Collector<K> } = {
  domains: collectDomains,
  users: collectUsers,
  signInActivity: collectSignInActivity,
  directory: collectDirectory,
  mfaRegistration: collectMfaRegistration,
  roles: collectRoles,
  roleAssignmentInstances: collectRoleAssignmentInstances,
  securityDefaults: collectSecurityDefaults,
  conditionalAccess: collectConditionalAccess,
  mailRules: collectMailRules,
  mailAuthentication: collectMailAuthentication,
  signIns: collectSignIns,
  sites: collectSites,
  sharing: collectSharing,
  sharepointSettings: collectSharepointSettings,
  authorizationPolicy: collectAuthorizationPolicy,
  appGrants: collectAppGrants,
};
