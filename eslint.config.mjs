// n8n's own lint rules for community nodes. The variant without n8n Cloud support, because the design card asks
// for @azure/msal-node at runtime (token cache and certificate credentials) and n8n Cloud accepts no runtime
// dependencies; every other rule of the Cloud set still applies.
import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default configWithoutCloudSupport;
