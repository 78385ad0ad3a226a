/**
 * Password hashing (scrypt): the one implementation lives in the protocol
 * (`components/protocol/passwords.ts`), shared with the camera head.
 */
export { dummyVerify, hashPassword, verifyPassword } from '../../components/protocol/passwords.ts';
