/**
 * The seccomp filter every sandboxed job runs under (`bwrap --seccomp FD`): a classic BPF program,
 * assembled here so no C library or compiler is needed. It refuses with EPERM the calls a job has no
 * use for and that reach other processes or the kernel's guts (ptrace, process_vm_*, pidfd_getfd,
 * bpf, keyrings, mounts, namespaces, modules, io_uring...), answers clone3 with ENOSYS (its flags sit
 * in memory a filter cannot read, and libc then falls back to clone), refuses clone with namespace
 * flags, and kills a process that calls in through another ABI (x32, i386 on x86_64, arm32).
 */

/** sock_filter: u16 code, u8 jt, u8 jf, u32 k; 8 bytes, little-endian on both arches we build for. */
export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export type SeccompArch = 'x64' | 'arm64';

const AUDIT_ARCH: Record<SeccompArch, number> = { x64: 0xc000003e, arm64: 0xc00000b7 };
/** x32 syscalls are the x86_64 numbers with this bit set. */
const X32_SYSCALL_BIT = 0x40000000;

// struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6].
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
/** The low 32 bits of args[0] (little-endian). */
const OFFSET_ARG0 = 16;

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;

/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET. */
export const CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

/** Refused with EPERM. Numbers: arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h. */
export const DENIED_SYSCALLS: Record<string, Partial<Record<SeccompArch, number>>> = {
  ptrace: { x64: 101, arm64: 117 },
  process_vm_readv: { x64: 310, arm64: 270 },
  process_vm_writev: { x64: 311, arm64: 271 },
  pidfd_getfd: { x64: 438, arm64: 438 },
  kcmp: { x64: 312, arm64: 272 },
  perf_event_open: { x64: 298, arm64: 241 },
  bpf: { x64: 321, arm64: 280 },
  userfaultfd: { x64: 323, arm64: 282 },
  keyctl: { x64: 250, arm64: 219 },
  add_key: { x64: 248, arm64: 217 },
  request_key: { x64: 249, arm64: 218 },
  mount: { x64: 165, arm64: 40 },
  umount2: { x64: 166, arm64: 39 },
  pivot_root: { x64: 155, arm64: 41 },
  chroot: { x64: 161, arm64: 51 },
  open_tree: { x64: 428, arm64: 428 },
  move_mount: { x64: 429, arm64: 429 },
  fsopen: { x64: 430, arm64: 430 },
  fsconfig: { x64: 431, arm64: 431 },
  fsmount: { x64: 432, arm64: 432 },
  fspick: { x64: 433, arm64: 433 },
  mount_setattr: { x64: 442, arm64: 442 },
  unshare: { x64: 272, arm64: 97 },
  setns: { x64: 308, arm64: 268 },
  kexec_load: { x64: 246, arm64: 104 },
  kexec_file_load: { x64: 320, arm64: 294 },
  init_module: { x64: 175, arm64: 105 },
  finit_module: { x64: 313, arm64: 273 },
  delete_module: { x64: 176, arm64: 106 },
  acct: { x64: 163, arm64: 89 },
  swapon: { x64: 167, arm64: 224 },
  swapoff: { x64: 168, arm64: 225 },
  reboot: { x64: 169, arm64: 142 },
  iopl: { x64: 172 },
  ioperm: { x64: 173 },
  name_to_handle_at: { x64: 303, arm64: 264 },
  open_by_handle_at: { x64: 304, arm64: 265 },
  lookup_dcookie: { x64: 212, arm64: 18 },
  io_uring_setup: { x64: 425, arm64: 425 },
  io_uring_enter: { x64: 426, arm64: 426 },
  io_uring_register: { x64: 427, arm64: 427 },
  quotactl: { x64: 179, arm64: 60 },
  syslog: { x64: 103, arm64: 116 },
  uselib: { x64: 134 },
  vhangup: { x64: 153, arm64: 58 },
  settimeofday: { x64: 164, arm64: 170 },
  clock_settime: { x64: 227, arm64: 112 },
  clock_adjtime: { x64: 305, arm64: 266 },
  adjtimex: { x64: 159, arm64: 171 },
};

const CLONE: Record<SeccompArch, number> = { x64: 56, arm64: 220 };
const CLONE3 = 435;
/** personality(PER_LINUX) and the query personality(0xffffffff) pass; any other persona is refused. */
const PERSONALITY: Record<SeccompArch, number> = { x64: 135, arm64: 92 };
const PER_LINUX = 0;
const PERSONALITY_QUERY = 0xffffffff;

type Target = 'allow' | 'deny' | 'enosys' | 'kill' | 'next';
type Step =
  | { op: 'load'; offset: number }
  | { op: 'jump'; code: number; k: number; jt: Target | number; jf: Target | number }
  | { op: 'ret'; k: number; label: Target };

const load = (offset: number): Step => ({ op: 'load', offset });
/** `jt`/`jf` as a label, or a number of steps to skip. */
const jeq = (k: number, jt: Target | number, jf: Target | number = 0): Step => ({ op: 'jump', code: BPF_JEQ_K, k, jt, jf });

/** The program for one architecture; a process calling in through any other ABI is killed. */
export function seccompProgram(arch: SeccompArch): BpfInstruction[] {
  const steps: Step[] = [load(OFFSET_ARCH), jeq(AUDIT_ARCH[arch], 0, 'kill'), load(OFFSET_NR)];
  if (arch === 'x64') steps.push({ op: 'jump', code: BPF_JGE_K, k: X32_SYSCALL_BIT, jt: 'kill', jf: 0 });
  for (const numbers of Object.values(DENIED_SYSCALLS)) {
    const nr = numbers[arch];
    if (nr !== undefined) steps.push(jeq(nr, 'deny'));
  }
  steps.push(
    jeq(CLONE3, 'enosys'),
    // clone: refuse namespace flags in args[0]; x86_64 and arm64 both pass the flags first.
    jeq(CLONE[arch], 0, 2),
    load(OFFSET_ARG0),
    { op: 'jump', code: BPF_JSET_K, k: CLONE_NAMESPACE_FLAGS, jt: 'deny', jf: 'allow' },
    jeq(PERSONALITY[arch], 0, 'allow'),
    load(OFFSET_ARG0),
    jeq(PER_LINUX, 'allow'),
    jeq(PERSONALITY_QUERY, 'allow', 'deny'),
    { op: 'ret', k: SECCOMP_RET_ALLOW, label: 'allow' },
    { op: 'ret', k: SECCOMP_RET_ERRNO | EPERM, label: 'deny' },
    { op: 'ret', k: SECCOMP_RET_ERRNO | ENOSYS, label: 'enosys' },
    { op: 'ret', k: SECCOMP_RET_KILL_PROCESS, label: 'kill' },
  );
  return assemble(steps);
}

function assemble(steps: Step[]): BpfInstruction[] {
  const labels = new Map<Target, number>();
  steps.forEach((step, index) => step.op === 'ret' && labels.set(step.label, index));
  const offset = (from: number, target: Target | number): number => {
    const jump = typeof target === 'number' ? target : labels.get(target)! - from - 1;
    if (jump < 0 || jump > 255) throw new Error(`seccomp: jump of ${jump} from instruction ${from} does not fit`);
    return jump;
  };
  return steps.map((step, index) => {
    if (step.op === 'load') return { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: step.offset };
    if (step.op === 'ret') return { code: BPF_RET_K, jt: 0, jf: 0, k: step.k };
    return { code: step.code, jt: offset(index, step.jt), jf: offset(index, step.jf), k: step.k >>> 0 };
  });
}

/** The bytes bwrap reads from its --seccomp fd: an array of struct sock_filter. */
export function encodeProgram(program: BpfInstruction[]): Buffer {
  const buffer = Buffer.alloc(program.length * 8);
  program.forEach((instruction, index) => {
    buffer.writeUInt16LE(instruction.code, index * 8);
    buffer.writeUInt8(instruction.jt, index * 8 + 2);
    buffer.writeUInt8(instruction.jf, index * 8 + 3);
    buffer.writeUInt32LE(instruction.k >>> 0, index * 8 + 4);
  });
  return buffer;
}

/** This host's filter, or an error naming the architecture we have no syscall table for. */
export function hostSeccompFilter(arch: string = process.arch): Buffer {
  if (arch !== 'x64' && arch !== 'arm64') throw new Error(`no seccomp filter for the ${arch} architecture (x64 and arm64 only)`);
  return encodeProgram(seccompProgram(arch));
}
