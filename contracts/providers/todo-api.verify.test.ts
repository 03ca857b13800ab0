// Provider: todo-api, verified against the web frontend's committed pact.
// The real todo-api process on its own PostgreSQL schema, trusting the real
// token-service (real Redis, its own key prefix), which trusts the real
// identity (BetterAuth). Provider states: sign up at identity, exchange at
// token-service, create todos through todo-api's own POST /todos.
import t from 'tap'
import { TodoScope } from '@todo-auth/contracts'
import { Participant } from '../support/consumer-pact.ts'
import { createTodoAt, exchangeAt } from '../support/provider-actions.ts'
import { startIdentityProvider, startTodoApiProvider, startTokenServiceProvider } from '../support/provider-stack.ts'
import { ProviderState } from '../support/provider-states.ts'
import { verifyProvider } from '../support/verify-provider.ts'

t.test("todo-api honours the web frontend's pact", async (t) => {
  const identity = await startIdentityProvider(t)
  const tokenService = await startTokenServiceProvider(t, identity)
  const todoApi = await startTodoApiProvider(t, tokenService)
  const signIn = async (scope?: string) => (await exchangeAt(tokenService.url, (await identity.signUp()).jwt, scope ? { scope } : {})).accessToken

  await verifyProvider({
    provider: Participant.todoApi,
    consumers: [Participant.web],
    providerBaseUrl: todoApi.url,
    stateHandlers: {
      [ProviderState.userSignedIn]: async () => ({ accessToken: await signIn() }),
      [ProviderState.userHasTodo]: async () => {
        const accessToken = await signIn()
        const todo = await createTodoAt(todoApi.url, accessToken, { title: 'buy milk', order: 1 })
        return { accessToken, todoId: todo.id }
      },
      [ProviderState.userCanOnlyRead]: async () => ({ accessToken: await signIn(TodoScope.read) }),
    },
  })
  t.pass('every interaction of contracts/pacts/web-todo-api.json holds')
})
