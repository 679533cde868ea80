import { test } from 'vitest';
import { expectAuditTrail } from '../shared/audit-trail.ts';

test('Gateway records its audit trail and reads it back in order', () => expectAuditTrail('gateway', 'signal'));
