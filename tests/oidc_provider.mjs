// A real OpenID Connect provider for Gantry's single sign-on tests: oidc-provider 9 (npm, devDependency in
// package.json) with its built-in development login form, which accepts any login and password and signs
// in the account of that name. Accounts and their claims (email, groups, ...) are read from a JSON file on
// every login, so a test changes a user's groups by rewriting the file.
//
//   node tests/oidc_provider.mjs PORT ACCOUNTS_JSON CLIENT_ID CLIENT_SECRET REDIRECT_URI
//
// Prints "ready <issuer>" once it listens on 127.0.0.1:PORT.
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const [port, accountsPath, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  // Scope -> the claims it releases (oidc-provider's `claims` option).
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    groups: ['groups'],
  },
  async findAccount(ctx, sub) {
    const account = JSON.parse(readFileSync(accountsPath, 'utf8'))[sub];
    if (!account) return undefined;
    return { accountId: sub, async claims() { return { sub, ...account }; } };
  },
  // The one client is first-party: grant what it asks without a consent page (the skip_consent recipe).
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope);
    await grant.save();
    return grant;
  },
  cookies: { keys: ['gantry-tests-only'] },
  features: { devInteractions: { enabled: true } },
});

provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
