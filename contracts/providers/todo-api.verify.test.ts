// Provider: todo-api, verified against the web frontend's committed pact.
// The real todo-api process on its own PostgreSQL schema, trusting the real
// token-service (real Redis, its own key prefix), which trusts the real
// identity (BetterAuth). States (providers/states/todo-api.states.ts): sign
// up at identity, exchange at token-service, create todos through POST /todos.
import t from 'tap'
import { Participant } from '../support/participants.ts'
import { startIdentityProvider, startTodoApiProvider, startTokenServiceProvider } from '../support/provider-stack.ts'
import { assertHonoured, verifyInChild } from '../support/verify-in-child.ts'

t.test("todo-api honours the web frontend's pact", async (t) => {
  const identity = await startIdentityProvider(t)
  const tokenService = await startTokenServiceProvider(t, identity)
  const todoApi = await startTodoApiProvider(t, tokenService)
  const outcome = await verifyInChild({
    provider: Participant.todoApi,
    consumers: [Participant.web],
    providerBaseUrl: todoApi.url,
    urls: { identityUrl: identity.url, tokenServiceUrl: tokenService.url, todoApiUrl: todoApi.url },
  })
  assertHonoured(t, outcome, 'every interaction of contracts/pacts/web-todo-api.json holds')
})
