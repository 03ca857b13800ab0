import t from 'tap'
import { firstRetryMs, maxRetryMs, retryDelayMs } from '../../src/session-events/session-event-relay.ts'

t.test('retries back off from 0.5 s, doubling, to at most 10 s, jittered down by at most 20 %', async (t) => {
  const none = () => 0
  const most = () => 1
  t.same(
    [1, 2, 3, 4, 5, 6, 50].map((failures) => retryDelayMs(failures, none)),
    [500, 1000, 2000, 4000, 8000, 10_000, 10_000],
  )
  t.equal(retryDelayMs(1, most), firstRetryMs * 0.8, 'the first retry is never sooner than 0.4 s')
  t.equal(retryDelayMs(1000, most), maxRetryMs * 0.8)
  for (let failures = 1; failures < 40; failures++) t.ok(retryDelayMs(failures) <= maxRetryMs, `never longer than 10 s (${failures} failures)`)
})
