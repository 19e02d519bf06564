/**
 * The certificate the instant trigger gives Graph with a basic subscription (no resource data). The
 * create-subscription page says of presence: "Always specify the encryptionCertificate parameter
 * ... to avoid failure" (https://learn.microsoft.com/graph/api/subscription-post-subscriptions), while
 * basic subscriptions without one are reported to work. Following the page costs nothing: Graph
 * encrypts with it only when includeResourceData is true, which basic subscriptions never set, so no
 * private key is needed. This self-signed certificate (RSA 2048, valid until 2056) was made for this
 * package and its private key was discarded at once: nobody can decrypt anything encrypted for it,
 * and there is no secret to keep. With rich notifications the credential's own certificate is used.
 */
export const BASIC_CERTIFICATE = [
	'MIIDuzCCAqOgAwIBAgIJYrtwB5jwBcRnMA0GCSqGSIb3DQEBBQUAMFExTzBNBgNVBAMTRm44bi1ub2Rlcy1tc2dy',
	'YXBoLXByZXNlbmNlIGJhc2ljIG5vdGlmaWNhdGlvbnMgKG5vIHByaXZhdGUga2V5IGV4aXN0cykwIBcNMjYxMjAx',
	'MTAxNTE3WhgPMjA1NjExMjMxMDE1MTdaMFExTzBNBgNVBAMTRm44bi1ub2Rlcy1tc2dyYXBoLXByZXNlbmNlIGJh',
	'c2ljIG5vdGlmaWNhdGlvbnMgKG5vIHByaXZhdGUga2V5IGV4aXN0cykwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAw',
	'ggEKAoIBAQDNz50eR5qRN83wFG+xHleUVZNsc2Z44zAGsCQZAU8g0KU6hwkgbZ414wOpSfJaEgumIg42c2w3ULfc',
	'MsoPln4PVtXafwwDyUCp7NN6hz8C18ajvMJsJZftAIQn736PepEcY25Lz2FT+W2FCn0F+YQxzKBXq4wL6hlfNOti',
	'1xl57zKH7v/gJkBmulXFtykhkQy6TcLI1Fe6HGxNEHlqmCt8Wuf57pGbZz6kuIgCSeng64UJ1DyZDzcWfBZj1OsJ',
	'CaB4l3qME/4AEsUEbKWUikcnNNzuXytBi7YO85CEr2WgmWRypL3mnozQN9weW1iPxR86FFalGwc0PhRNFliuuWhh',
	'AgMBAAGjgZMwgZAwDAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMCBaAwHQYDVR0lBBYwFAYIKwYBBQUHAwEGCCsG',
	'AQUFBwMCMFEGA1UdEQRKMEiCRm44bi1ub2Rlcy1tc2dyYXBoLXByZXNlbmNlIGJhc2ljIG5vdGlmaWNhdGlvbnMg',
	'KG5vIHByaXZhdGUga2V5IGV4aXN0cykwDQYJKoZIhvcNAQEFBQADggEBAIDQiuebSErn4qT89EKyqU4pc7kVivyS',
	'EVPBKKdNhkqaIt7KICqQ1rt/wZTKkLV/hzuaBh5nGmodSRZ1VE0bOu2d7TacxgnClYhYJz8fGF6za4ammPWBKtkj',
	'6FdveONtmJdULvNWUJEtcQ2U2G3n3jU/lLHauSdiw/57sASp5DIRKA+z3PtbjAwOrFGMZ3EqN/NreqblbLEk5FWc',
	'EK/Z9JIWcOLm05sv2KIRaplGGwaga/fopeYuDMbRgjmxF+AIAEfscNEhHdgG2PkeqS/1vj8trQog+xktmRk5QSnT',
	'/+DkX9SLZq4PY1LxNyZG8N/PjKDnHi1bZUKofx9Vr3TxiAI=',
].join('');

/** The id Graph echoes for it (encryptionCertificateId), to recognise basic subscriptions of ours. */
export const BASIC_SUBSCRIPTION_LABEL = 'n8n-msgraph-presence-basic-1';
