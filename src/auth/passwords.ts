/**
 * Password hashing with argon2id at OWASP's minimum (19 MiB, t=2, p=1).
 * `verifyLogin` spends the same work for an unknown email as for a wrong password, so that a
 * login's timing does not tell which emails are registered.
 */
import { hash, verify } from '@node-rs/argon2'

const options = { algorithm: 2 /* Algorithm.Argon2id: a const enum, not importable under verbatimModuleSyntax */, memoryCost: 19_456, timeCost: 2, parallelism: 1 }

export function hashPassword (password: string): Promise<string> {
  return hash(password, options)
}

export interface PasswordChecker {
  /** True when `password` matches `storedHash`; with no hash, verifies a dummy and says false. */
  verifyLogin (storedHash: string | undefined, password: string): Promise<boolean>
}

export async function createPasswordChecker (): Promise<PasswordChecker> {
  const dummyHash = await hash('not-a-password-anyone-has', options)
  return {
    async verifyLogin (storedHash, password) {
      if (storedHash === undefined) {
        await verify(dummyHash, password)
        return false
      }
      return verify(storedHash, password)
    }
  }
}
