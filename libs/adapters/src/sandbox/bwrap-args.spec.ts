import { bwrapArgs, BwrapPlan, gpuAccess, INSIDE, jobFileContents, jobMounts, JobMountPlan, NVIDIA_SHARED_NODES, sandboxEnv, setprivArgs } from './bwrap-args';

const job: JobMountPlan = {
  submissionDir: '/shared/submissions/s1',
  outputDir: '/shared/artifacts/j1',
  configPath: '/work/j1/config.yaml',
  relaySocket: '/work/j1/mlflow.sock',
};

const plan: BwrapPlan = {
  layout: { roots: [{ path: '/bin', target: 'usr/bin' }, { path: '/lib', target: 'usr/lib' }, { path: '/lib64' }] },
  venvDir: '/repo/.venv',
  launcherPath: '/repo/python/launcher.py',
  etcFiles: {
    passwd: '/work/j1/passwd',
    group: '/work/j1/group',
    hosts: '/work/j1/hosts',
    nsswitch: '/work/j1/nsswitch',
  },
  mounts: jobMounts(job),
  chdir: INSIDE.submission,
  env: { PATH: '/venv/bin:/usr/bin', MLFLOW_RUN_ID: 'r1' },
  tmpBytes: 64 * 2 ** 20,
  devices: [],
};

/** The (source, destination) pairs of every option that takes two paths. */
function pairs(args: string[], option: string): [string, string][] {
  const found: [string, string][] = [];
  args.forEach((arg, index) => {
    if (arg === option) found.push([args[index + 1], args[index + 2]]);
  });
  return found;
}

describe('bwrapArgs', () => {
  const args = bwrapArgs(plan);

  it('unshares every namespace, the network included, and keeps no capability', () => {
    expect(args).toEqual(expect.arrayContaining(['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session', '--as-pid-1']));
    expect(args).not.toContain('--share-net');
    expect(args.join(' ')).toContain('--cap-drop ALL');
  });

  it('binds the submission, the venv, the launcher and the config read-only, and only /output writable', () => {
    expect(pairs(args, '--ro-bind')).toEqual(
      expect.arrayContaining([
        ['/usr', '/usr'],
        ['/lib64', '/lib64'],
        ['/repo/.venv', '/venv'],
        ['/repo/python/launcher.py', '/launcher.py'],
        ['/shared/submissions/s1', '/submission'],
        ['/work/j1/config.yaml', '/config.yaml'],
        ['/work/j1/passwd', '/etc/passwd'],
      ]),
    );
    expect(pairs(args, '--bind')).toEqual([
      ['/shared/artifacts/j1', '/output'],
      ['/work/j1/mlflow.sock', '/run/mlflow.sock'],
    ]);
    expect(pairs(args, '--dev-bind')).toEqual([]);
    expect(args.join(' ')).toContain('--chdir /submission');
  });

  it('mirrors the host /lib symlinks and binds nothing else of the host', () => {
    expect(pairs(args, '--symlink')).toEqual([
      ['usr/bin', '/bin'],
      ['usr/lib', '/lib'],
    ]);
    const sources = [...pairs(args, '--ro-bind'), ...pairs(args, '--bind'), ...pairs(args, '--ro-bind-try')].map(([source]) => source);
    for (const source of sources) {
      expect(source).toMatch(/^(\/usr|\/lib64|\/repo\/|\/shared\/submissions\/s1|\/shared\/artifacts\/j1|\/work\/j1\/|\/etc\/ld\.so\.cache|\/etc\/localtime)/);
    }
  });

  it('caps /tmp and /dev/shm and leaves the root and /dev read-only', () => {
    const joined = args.join(' ');
    expect(joined).toContain(`--size ${64 * 2 ** 20} --tmpfs /tmp`);
    expect(joined).toContain(`--size ${64 * 2 ** 20} --tmpfs /dev/shm`);
    expect(joined).toMatch(/--remount-ro \/dev --remount-ro \/ --clearenv/);
  });

  it('clears the environment and sets exactly the plan env', () => {
    const cleared = args.indexOf('--clearenv');
    expect(cleared).toBeGreaterThan(0);
    const set = pairs(args, '--setenv');
    expect(set).toEqual([
      ['PATH', '/venv/bin:/usr/bin'],
      ['MLFLOW_RUN_ID', 'r1'],
    ]);
    expect(args.indexOf('--setenv')).toBeGreaterThan(cleared);
  });

  it('passes GPU nodes through with --dev-bind', () => {
    const withGpu = bwrapArgs({ ...plan, devices: ['/dev/nvidiactl', '/dev/nvidia1'] });
    expect(pairs(withGpu, '--dev-bind')).toEqual([
      ['/dev/nvidiactl', '/dev/nvidiactl'],
      ['/dev/nvidia1', '/dev/nvidia1'],
    ]);
  });

  it('leaves the relay out when there is none', () => {
    expect(bwrapArgs({ ...plan, mounts: jobMounts({ ...job, relaySocket: undefined }) }).join(' ')).not.toContain('mlflow.sock');
  });

  it('binds a benchmark\'s data read-only at /data, and nothing there without one', () => {
    expect(pairs(bwrapArgs({ ...plan, mounts: jobMounts({ ...job, dataDir: '/work/j1/data' }) }), '--ro-bind')).toContainEqual(['/work/j1/data', '/data']);
    expect(args.join(' ')).not.toContain('/data');
  });
});

describe('sandboxEnv', () => {
  const base = { trackingUri: 'http://127.0.0.1:5010', home: '/tmp', path: '/venv/bin:/usr/bin' };

  it('is the allow-list plus the request variables', () => {
    expect(sandboxEnv({ ...base, requestEnv: { MLFLOW_RUN_ID: 'r1', MLFLOW_EXPERIMENT_ID: '7' } })).toEqual({
      MLFLOW_RUN_ID: 'r1',
      MLFLOW_EXPERIMENT_ID: '7',
      PATH: '/venv/bin:/usr/bin',
      HOME: '/tmp',
      LANG: 'C.UTF-8',
      PYTHONUNBUFFERED: '1',
      MLFLOW_DISABLE_TELEMETRY: 'true',
      PYTHONDONTWRITEBYTECODE: '1',
      MPLCONFIGDIR: '/tmp',
      MLFLOW_TRACKING_URI: 'http://127.0.0.1:5010',
    });
  });

  it('never takes anything from the worker environment', () => {
    process.env.SANDBOX_ENV_SPEC_SECRET = 'leak';
    try {
      expect(Object.values(sandboxEnv({ ...base, requestEnv: {} }))).not.toContain('leak');
    } finally {
      delete process.env.SANDBOX_ENV_SPEC_SECRET;
    }
  });

  it('lets no request variable override ours', () => {
    const env = sandboxEnv({ ...base, requestEnv: { MLFLOW_TRACKING_URI: 'http://evil:1', PATH: '/x' } });
    expect(env.MLFLOW_TRACKING_URI).toBe('http://127.0.0.1:5010');
    expect(env.PATH).toBe('/venv/bin:/usr/bin');
  });

  it('refuses a variable name bwrap or a shell would misread', () => {
    expect(() => sandboxEnv({ ...base, requestEnv: { 'A=B': 'x' } })).toThrow(/not valid/);
  });

  it('sets no MLFLOW_* variable without a tracking URI, and LEADERBOARD_DATA_DIR only with data', () => {
    const env = sandboxEnv({ ...base, trackingUri: undefined, requestEnv: {} });
    expect(Object.keys(env).filter((name) => name.startsWith('MLFLOW_'))).toEqual([]);
    expect(env).not.toHaveProperty('LEADERBOARD_DATA_DIR');
    expect(sandboxEnv({ ...base, requestEnv: { LEADERBOARD_DATA_DIR: '/x' }, dataDir: '/data' }).LEADERBOARD_DATA_DIR).toBe('/data');
  });

  it('sets CUDA_VISIBLE_DEVICES only with a GPU', () => {
    expect(sandboxEnv({ ...base, requestEnv: {} })).not.toHaveProperty('CUDA_VISIBLE_DEVICES');
    expect(sandboxEnv({ ...base, requestEnv: {}, cudaVisibleDevices: '0' }).CUDA_VISIBLE_DEVICES).toBe('0');
  });
});

describe('gpuAccess', () => {
  const present = new Set(['/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia0', '/dev/nvidia1', '/dev/nvidia2']);
  const exists = (node: string) => present.has(node);

  it('binds nothing without a GPU', () => {
    expect(gpuAccess(undefined, NVIDIA_SHARED_NODES, exists)).toEqual({ devices: [] });
  });

  it('binds the control nodes and that one GPU, which CUDA then numbers 0', () => {
    expect(gpuAccess('2', NVIDIA_SHARED_NODES, exists)).toEqual({
      devices: ['/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia2'],
      cudaVisibleDevices: '0',
    });
  });

  it('skips nodes this host does not have', () => {
    expect(gpuAccess('5', NVIDIA_SHARED_NODES, exists).devices).toEqual(['/dev/nvidiactl', '/dev/nvidia-uvm']);
  });

  it('selects a GPU given by UUID through CUDA_VISIBLE_DEVICES, with every GPU node bound', () => {
    const access = gpuAccess('GPU-8f1c2d3e-aaaa-bbbb-cccc-0123456789ab', NVIDIA_SHARED_NODES, exists, () => ['/dev/nvidia0', '/dev/nvidia1']);
    expect(access).toEqual({
      devices: ['/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia0', '/dev/nvidia1'],
      cudaVisibleDevices: 'GPU-8f1c2d3e-aaaa-bbbb-cccc-0123456789ab',
    });
  });

  it('refuses an id that is neither', () => {
    expect(() => gpuAccess('../../etc', NVIDIA_SHARED_NODES, exists)).toThrow(/neither an index nor a UUID/);
  });
});

describe('setprivArgs', () => {
  it('drops uid, gid, groups and every capability, for good', () => {
    expect(setprivArgs(65534, 65534)).toEqual([
      'setpriv',
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--no-new-privs',
    ]);
  });
});

describe('jobFileContents', () => {
  it('names the job user and maps a tracking host name to the in-sandbox relay', () => {
    const files = jobFileContents(65534, 65534, 'mlflow');
    expect(files.passwd).toContain('job:x:65534:65534:');
    expect(files.hosts).toBe('127.0.0.1 localhost\n127.0.0.1 mlflow\n');
    expect(jobFileContents(65534, 65534, '127.0.0.1').hosts).toBe('127.0.0.1 localhost\n');
  });
});
