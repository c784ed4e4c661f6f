// A consumer of keyfob serve written with openid-client (panva), which
// insists on discovery: it reads the service's
// /.well-known/openid-configuration, checks its issuer, then asks the
// token endpoint it names for a token with the consumer credential as the
// refresh token. Usage: node client.mjs BASE_URL < CREDENTIAL
// It prints the answer's fields as JSON on stdout.
import * as client from 'openid-client'
import { readFileSync } from 'node:fs'

const base = new URL(process.argv[2])
const credential = readFileSync(0, 'utf8').trim()

const config = await client.discovery(base, 'openid-client-app', undefined, client.None(), {
  execute: base.protocol === 'http:' ? [client.allowInsecureRequests] : [],
})
const meta = config.serverMetadata()
const tokens = await client.refreshTokenGrant(config, credential)
process.stdout.write(JSON.stringify({
  issuer: meta.issuer,
  token_endpoint: meta.token_endpoint,
  access_token: tokens.access_token,
  token_type: tokens.token_type,
  expires_in: tokens.expires_in,
  refresh_token: tokens.refresh_token,
}) + '\n')
