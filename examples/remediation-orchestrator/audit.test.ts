import { test } from 'vitest';
import { expectAuditTrail } from '../shared/audit-trail.ts';

test('RemediationOrchestrator records its audit trail and reads it back in order', () => expectAuditTrail('remediationorchestrator', 'remediation'));
