/** `npm run test:chaos`: the fault, bad-input, secrets and cancellation suite over 10,000 / 100,000 ids (test/chaos). */
module.exports = { ...require('./test/chaos/jest.config.js'), rootDir: '.' };
