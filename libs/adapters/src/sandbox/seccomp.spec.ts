import {
  CLONE_NAMESPACE_FLAGS,
  DENIED_SYSCALLS,
  encodeProgram,
  hostSeccompFilter,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  seccompProgram,
} from './seccomp';

/** Decodes the bytes bwrap gets and runs them as the kernel would, on one seccomp_data. */
function run(bytes: Buffer, data: { nr: number; arch: number; arg0?: number }): number {
  const words = new Map<number, number>([
    [0, data.nr >>> 0],
    [4, data.arch >>> 0],
    [16, (data.arg0 ?? 0) >>> 0],
  ]);
  let a = 0;
  for (let pc = 0; pc * 8 < bytes.length; pc++) {
    const code = bytes.readUInt16LE(pc * 8);
    const jt = bytes.readUInt8(pc * 8 + 2);
    const jf = bytes.readUInt8(pc * 8 + 3);
    const k = bytes.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) a = words.get(k) ?? 0;
    else if (code === 0x06) return k;
    else if (code === 0x15) pc += a === k ? jt : jf;
    else if (code === 0x35) pc += a >= k ? jt : jf;
    else if (code === 0x45) pc += (a & k) !== 0 ? jt : jf;
    else throw new Error(`unknown BPF code ${code.toString(16)} at ${pc}`);
  }
  throw new Error('fell off the end of the program');
}

const X64 = 0xc000003e;
const ARM64 = 0xc00000b7;
const I386 = 0x40000003;
const EPERM = SECCOMP_RET_ERRNO | 1;
const ENOSYS = SECCOMP_RET_ERRNO | 38;

describe('seccomp filter', () => {
  const x64 = encodeProgram(seccompProgram('x64'));
  const arm64 = encodeProgram(seccompProgram('arm64'));

  it('is a whole number of 8-byte sock_filter entries and fits the kernel limit', () => {
    expect(x64.length % 8).toBe(0);
    expect(x64.length / 8).toBeLessThan(4096);
    expect(hostSeccompFilter('x64')).toEqual(x64);
    expect(() => hostSeccompFilter('ia32')).toThrow(/no seccomp filter for the ia32 architecture/);
  });

  it('refuses every listed call with EPERM on both arches, and only on its own numbers', () => {
    for (const [name, numbers] of Object.entries(DENIED_SYSCALLS)) {
      if (numbers.x64 !== undefined) expect([name, run(x64, { nr: numbers.x64, arch: X64 })]).toEqual([name, EPERM]);
      if (numbers.arm64 !== undefined) expect([name, run(arm64, { nr: numbers.arm64, arch: ARM64 })]).toEqual([name, EPERM]);
    }
    expect(run(x64, { nr: 101, arch: X64 })).toBe(EPERM); // ptrace
    expect(run(x64, { nr: 438, arch: X64 })).toBe(EPERM); // pidfd_getfd
    expect(run(arm64, { nr: 101, arch: ARM64 })).toBe(SECCOMP_RET_ALLOW); // nanosleep there
  });

  it('lets ordinary calls through', () => {
    for (const nr of [0, 1, 2, 9, 39, 57, 59, 231, 257, 434]) expect(run(x64, { nr, arch: X64 })).toBe(SECCOMP_RET_ALLOW);
    for (const nr of [63, 64, 56, 222, 221, 93]) expect(run(arm64, { nr, arch: ARM64 })).toBe(SECCOMP_RET_ALLOW);
  });

  it('allows clone for threads and forks, refuses it with namespace flags, and sends clone3 back to clone', () => {
    const threadFlags = 0x3d0f00;
    expect(run(x64, { nr: 56, arch: X64, arg0: threadFlags })).toBe(SECCOMP_RET_ALLOW);
    expect(run(x64, { nr: 56, arch: X64, arg0: 0x11 })).toBe(SECCOMP_RET_ALLOW);
    for (const flag of [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]) {
      expect(CLONE_NAMESPACE_FLAGS & flag).toBe(flag);
      expect(run(x64, { nr: 56, arch: X64, arg0: 0x11 | flag })).toBe(EPERM);
      expect(run(arm64, { nr: 220, arch: ARM64, arg0: flag })).toBe(EPERM);
    }
    expect(run(x64, { nr: 435, arch: X64 })).toBe(ENOSYS);
    expect(run(arm64, { nr: 435, arch: ARM64 })).toBe(ENOSYS);
  });

  it('allows only the default persona', () => {
    expect(run(x64, { nr: 135, arch: X64, arg0: 0 })).toBe(SECCOMP_RET_ALLOW);
    expect(run(x64, { nr: 135, arch: X64, arg0: 0xffffffff })).toBe(SECCOMP_RET_ALLOW);
    expect(run(x64, { nr: 135, arch: X64, arg0: 0x0040000 })).toBe(EPERM); // ADDR_NO_RANDOMIZE
  });

  it('kills a process calling in through the x32 ABI or a foreign architecture', () => {
    expect(run(x64, { nr: 0x40000000 | 1, arch: X64 })).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(run(x64, { nr: 4, arch: I386 })).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(run(x64, { nr: 1, arch: ARM64 })).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(run(arm64, { nr: 1, arch: X64 })).toBe(SECCOMP_RET_KILL_PROCESS);
  });
});
