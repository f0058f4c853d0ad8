/** Ids of tenants, chains, versions and environments: they become Unleash constraint values. */
import { z } from 'zod';

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const idSchema = z
  .string()
  .regex(ID_PATTERN, 'must start with a letter or digit and contain only letters, digits, ".", "_" or "-" (at most 128)');
