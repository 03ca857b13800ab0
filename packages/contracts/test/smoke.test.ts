import t from 'tap'
t.test('node version is 24', async (t) => {
  t.match(process.version, /^v24\./)
})
