/*
 * Adapted from the jest setup that @grafana/create-plugin 7.1.7 scaffolds: adds the browser APIs
 * jsdom lacks and @grafana/ui's Combobox menus use.
 */

import '@testing-library/jest-dom';
import { TextEncoder, TextDecoder } from 'util';

Object.assign(global, { TextDecoder, TextEncoder });

// https://jestjs.io/docs/manual-mocks#mocking-methods-which-are-not-implemented-in-jsdom
Object.defineProperty(global, 'matchMedia', {
  writable: true,
  value: (query) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: jest.fn(), // deprecated
    removeListener: jest.fn(), // deprecated
    addEventListener: jest.fn(),
    removeEventListener: jest.fn(),
    dispatchEvent: jest.fn(),
  }),
});

class ObserverStub {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}
global.IntersectionObserver = global.IntersectionObserver || ObserverStub;
global.ResizeObserver = global.ResizeObserver || ObserverStub;

// @grafana/ui measures text on a canvas (MultiCombobox pills); jsdom has none, so fake one.
HTMLCanvasElement.prototype.getContext = () => ({
  font: '',
  measureText: (text) => ({ width: String(text).length * 7 }),
  fillText: () => {},
  fillRect: () => {},
  clearRect: () => {},
});

// i18next (inside @grafana/ui) advertises itself on console.info when it initialises.
const info = console.info;
console.info = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes('i18next is made possible by')) {
    return;
  }
  info(...args);
};
