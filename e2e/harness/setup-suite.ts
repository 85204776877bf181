// Per-suite setup for integration tests: real kcp work (workspaces, bindings) takes seconds, not milliseconds.
import { jest } from '@jest/globals';

jest.setTimeout(180_000);
