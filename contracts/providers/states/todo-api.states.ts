import { TodoScope } from '@todo-auth/contracts'
import { createTodoAt, exchangeAt, signUpAt } from '../../support/provider-actions.ts'
import { ProviderState } from '../../support/provider-states.ts'
import type { ProviderStates } from '../../support/verify-provider.ts'
import { required, type ProviderUrls } from './provider-urls.ts'

/**
 * todo-api's provider states: sign up at identity, exchange at token-service
 * (optionally narrowing the scope), create todos through todo-api's own
 * POST /todos. Each state gets a fresh user.
 */
export function todoApiStates(urls: ProviderUrls): ProviderStates {
  const tokenServiceUrl = required(urls, 'tokenServiceUrl')
  const todoApiUrl = required(urls, 'todoApiUrl')
  const signIn = async (scope?: string) => (await exchangeAt(tokenServiceUrl, (await signUpAt(urls.identityUrl)).jwt, scope ? { scope } : {})).accessToken
  return {
    stateHandlers: {
      [ProviderState.userSignedIn]: async () => ({ accessToken: await signIn() }),
      [ProviderState.userHasTodo]: async () => {
        const accessToken = await signIn()
        const todo = await createTodoAt(todoApiUrl, accessToken, { title: 'buy milk', order: 1 })
        return { accessToken, todoId: todo.id }
      },
      [ProviderState.userCanOnlyRead]: async () => ({ accessToken: await signIn(TodoScope.read) }),
    },
    messageProviders: {},
  }
}
