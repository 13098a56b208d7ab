// jest's node environment with an ordinary global object. jest-environment-node contextifies a
// Proxy as each test file's global, so every global a test or the code under test names (Math,
// Number, Map, Array…) is looked up through V8's interceptor and then the Proxy: a loop calling
// Math.abs ran about 25 times slower than in plain Node, and the PromQL evaluator in the promtool
// fixture specs about three times. vm.constants.DONT_CONTEXTIFY gives the context a plain global
// (Node 20.18+/22.8+); everything else (globals installed, fake timers, teardown) is jest's own.
// Not kept: jest 30's deletion of the properties of values left on the global at teardown, a
// memory aid; workerIdleMemoryLimit (jest.config.js) replaces a worker that grows instead.
'use strict';
const vm = require('node:vm');
const { TestEnvironment } = require('jest-environment-node');

class PlainGlobalEnvironment extends TestEnvironment {
  constructor(config, context) {
    // The parent constructor calls vm.createContext(proxy) once; only that call is redirected.
    const createContext = vm.createContext;
    vm.createContext = () => createContext(vm.constants.DONT_CONTEXTIFY);
    try {
      super(config, context);
    } finally {
      vm.createContext = createContext;
    }
  }
}

module.exports = PlainGlobalEnvironment;
