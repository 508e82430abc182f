/**
 * The integration tests' failing model, without AWS: the archive is built in Node, then Python
 * opens it with `tarfile`, finds the script where AWS's scikit-learn container looks for it
 * (code/inference.py), and runs the script's handlers the way the container does
 * (model_fn -> input_fn -> predict_fn -> output_fn) on a normal request, a request that asks for
 * a failure, and with the "broken" build.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { failingModelFiles, INFERENCE_SCRIPT_PATH, tarGz, writeFailingModelArchive } from '../integ/support/model-archive';

// Opens the archive, lists it, extracts it as SageMaker does into a model dir, loads the entry
// point from SAGEMAKER_SUBMIT_DIRECTORY and answers each request; prints one JSON document.
const PYTHON_HARNESS = `
import importlib.util, json, os, sys, tarfile, tempfile
archive, requests = sys.argv[1], json.loads(sys.argv[2])
with tarfile.open(archive, "r:gz") as tar:
    members = {m.name: {"size": m.size, "mode": m.mode, "type": "dir" if m.isdir() else "file"} for m in tar.getmembers()}
    model_dir = tempfile.mkdtemp()
    tar.extractall(model_dir, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
submit_dir = os.path.join(model_dir, "code")
spec = importlib.util.spec_from_file_location("inference", os.path.join(submit_dir, "inference.py"))
inference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(inference)
model = inference.model_fn(model_dir)
answers = []
for body in requests:
    try:
        data = inference.input_fn(body.encode("utf-8"), "application/json")
        out, content_type = inference.output_fn(inference.predict_fn(data, model), "application/json")
        answers.append({"ok": True, "body": json.loads(out), "contentType": content_type})
    except Exception as error:
        answers.append({"ok": False, "error": type(error).__name__, "message": str(error)})
print(json.dumps({"members": members, "model": model, "answers": answers}))
`;

interface PythonResult {
  members: Record<string, { size: number; mode: number; type: string }>;
  model: { version: string; broken: boolean };
  answers: Array<{ ok: boolean; body?: { sum: number; version: string }; contentType?: string; error?: string; message?: string }>;
}

function runInPython(archive: string, requests: unknown[]): PythonResult {
  const out = execFileSync('python3', ['-c', PYTHON_HARNESS, archive, JSON.stringify(requests.map((r) => JSON.stringify(r)))], { encoding: 'utf8' });
  return JSON.parse(out);
}

let cacheDir: string;
beforeAll(() => { cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'failing-model-')); });
afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

describe('the failing model archive', () => {
  test('is a gzipped tar that Python opens, with the script at code/inference.py', () => {
    const archive = writeFailingModelArchive({ version: 'v1', broken: false }, cacheDir);
    expect(path.basename(archive)).toBe('model.tar.gz');
    const result = runInPython(archive, []);
    const script = fs.readFileSync(path.join(__dirname, '..', 'integ', 'support', 'failing-model', 'inference.py'));
    expect(result.members).toEqual({
      'code': { size: 0, mode: 0o755, type: 'dir' },
      [INFERENCE_SCRIPT_PATH]: { size: script.length, mode: 0o644, type: 'file' },
      'code/behaviour.json': { size: expect.any(Number), mode: 0o644, type: 'file' },
    });
    expect(result.model).toEqual({ version: 'v1', broken: false });
  });

  test('is byte for byte the same for the same inputs, so asset hashes and snapshots stay stable', () => {
    const files = failingModelFiles({ version: 'v2', broken: true });
    expect(tarGz(files).equals(tarGz(files))).toBe(true);
    expect(tarGz(files).equals(tarGz(failingModelFiles({ version: 'v2', broken: false })))).toBe(false);
  });

  test('refuses paths a tar reader would place outside the model folder', () => {
    expect(() => tarGz([{ path: '../escape.py', content: '' }])).toThrow('archive path must be relative, without "..", and at most 100 bytes, got "../escape.py"');
    expect(() => tarGz([{ path: '/abs.py', content: '' }])).toThrow('archive path must be relative, without "..", and at most 100 bytes, got "/abs.py"');
  });
});

describe('the failure-injecting inference script, run in Python', () => {
  test('a healthy build answers normally and fails only the request that asks for it', () => {
    const archive = writeFailingModelArchive({ version: 'v1', broken: false }, cacheDir);
    const { answers } = runInPython(archive, [{ x: [1, 2, 3.5] }, { x: [1], fail: true }, { x: [4] }]);
    expect(answers).toEqual([
      { ok: true, body: { sum: 6.5, version: 'v1' }, contentType: 'application/json' },
      { ok: false, error: 'RequestedFailure', message: 'the request asked model v1 to fail' },
      { ok: true, body: { sum: 4, version: 'v1' }, contentType: 'application/json' },
    ]);
  });

  test('the broken build fails every request, normal ones included', () => {
    const archive = writeFailingModelArchive({ version: 'v2', broken: true }, cacheDir);
    const { answers } = runInPython(archive, [{ x: [1, 2] }, { x: [1], fail: true }]);
    expect(answers).toEqual([
      { ok: false, error: 'RequestedFailure', message: 'model v2 was built broken: every request fails' },
      { ok: false, error: 'RequestedFailure', message: 'model v2 was built broken: every request fails' },
    ]);
  });
});
