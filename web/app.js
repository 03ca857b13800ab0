// @ts-check
// The demo client of the gateway's origin, wired: api-client.js (HTTP),
// session.js (the access token in memory, refresh), views.js (the DOM).
// Everything is same-origin, so the CSP allows no other host.

import { createApiClient } from './api-client.js'
import { createSession } from './session.js'
import { createViews } from './views.js'

const client = createApiClient()
const session = createSession(client, {
  changed: () => views.showTokenInfo(),
  ended: (message) => views.signedOut(message),
  backgroundError: (error) => views.showError(error),
})
const views = createViews({ client, session })

views.bind()
setInterval(views.showTokenInfo, 1000)
views.restore()
