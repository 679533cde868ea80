import { test } from 'vitest';
import { expectAuditTrail } from '../shared/audit-trail.ts';

test('SignalProcessing records its audit trail and reads it back in order', () => expectAuditTrail('signalprocessing', 'enrichment'));
