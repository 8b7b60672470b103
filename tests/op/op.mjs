// A real OpenID Provider for i-Learn's integration tests: panva's oidc-provider (OpenID
// Certified), configured like LeerID as far as the RP can tell: authorization code flow,
// PKCE S256 required, RS256 ID tokens with a kid, LeerID claims under scope ov_leerling,
// RP-initiated logout. Not for production: accounts live in memory, interactions auto-approve.
//
//   node op.mjs   (env: OP_PORT, OP_CLIENTS = JSON list of client metadata,
//                  OP_PKCE_OPTIONAL = comma-separated client ids that may skip PKCE)
//
// The user is picked by `login_hint` (default: the first account). PUT /users/<id> with a JSON
// object sets that user's claims. POST /rotate-keys replaces the signing key with a new one
// (new kid; the old key leaves the JWKS at once), as a key rotation at LeerID would; it
// answers the new kid. Prints "ready <issuer>" once listening.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT || 9410);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OP_CLIENTS || '[]');
const accounts = new Map();
const pkceOptional = new Set((process.env.OP_PKCE_OPTIONAL || '').split(',').filter(Boolean));

function newSigningKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: `op-${randomUUID().slice(0, 8)}`, use: 'sig', alg: 'RS256' };
}

// A rotation builds a new Provider with the new key; grants and sessions live in the module's
// in-memory adapter, shared by every instance.
const makeProvider = (signingKey) => new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: ['integration-tests-only-cookie-key'] },
  findAccount: async (ctx, id) => (accounts.has(id)
    ? { accountId: id, claims: async () => ({ sub: id, ...accounts.get(id) }) }
    : undefined),
  claims: {
    openid: ['sub'],
    profile: ['given_name', 'family_name'],
    ov_leerling: ['ov_leerid_uuid', 'ov_account_uuid', 'ov_historiek_account_uuid', 'ov_inschrijvingen'],
  },
  scopes: ['openid', 'profile', 'vo', 'ov_leerling'],
  // LeerID puts the pupil's claims in the ID token too.
  conformIdTokenClaims: false,
  // PKCE is required, except for the clients in OP_PKCE_OPTIONAL (the benchmark's stock client).
  pkce: { methods: ['S256'], required: (ctx, client) => !pkceOptional.has(client.clientId) },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = `<!doctype html><html lang="en"><head><title>LeerID test: sign out</title></head>
<body><h1>Sign out of the test LeerID?</h1>${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button></body></html>`;
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 7200, Grant: 7200 },
});
let provider = makeProvider(newSigningKey());
let callback = provider.callback();

function rotateKeys(res) {
  const signingKey = newSigningKey();
  provider = makeProvider(signingKey);
  callback = provider.callback();
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kid: signingKey.kid }));
}

// Auto-approve: log in as login_hint (or the first account), grant every requested scope.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params } = details;
  if (prompt.name === 'login') {
    const accountId = params.login_hint || accounts.keys().next().value;
    return provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

async function putUser(req, res, id) {
  let body = '';
  for await (const chunk of req) body += chunk;
  accounts.set(decodeURIComponent(id), JSON.parse(body));
  res.writeHead(204).end();
}

const server = createServer((req, res) => {
  const path = req.url.split('?')[0];
  const user = path.match(/^\/users\/([^/]+)$/);
  let handle;
  if (user && req.method === 'PUT') handle = putUser(req, res, user[1]);
  else if (path === '/rotate-keys' && req.method === 'POST') handle = rotateKeys(res);
  else if (path.startsWith('/interaction/')) handle = interaction(req, res);
  else handle = callback(req, res);
  Promise.resolve(handle).catch((err) => {
    console.error(err);
    if (!res.headersSent) res.writeHead(500).end('op error');
  });
});
server.keepAliveTimeout = 30000;
server.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
