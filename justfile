# Jotter's command runner: recipes, each one a thin call to the npm script of
# the same job (npm scripts stay primary; this file only names them). No global install:
#   npx just --list        npx just bench        npx just load-test --rate 500 --duration 60
# (`just` comes from the rust-just devDependency.) Arguments after the recipe go to the script.

set positional-arguments

# List the recipes
default:
    @{{just_executable()}} --list

# Every test, against a real PostgreSQL (embedded unless TEST_DATABASE_URL is set)
test *args:
    npm test -- "$@"

# The performance-related tests only: load generator and suite math, loaders, cache
test-perf:
    npm run test:perf

# All benchmarks in one run, with ratios against a bare node:http server (docs/performance.md)
bench *args:
    npm run bench -- "$@"

# Open-model load against a running, seeded Jotter: --rate R --duration S [--url URL] [--find-max]
load-test *args:
    npm run load-test -- "$@"

# The write path under concurrency (CI): API seeding, the write mix, no leaked transaction: [--rate R --duration S --pin]
check-write-mix *args:
    npm run check:write-mix -- "$@"

# CPU profile under load, turned into a flame graph: [--duration S --rate R]
profile *args:
    npm run profile -- "$@"

# Memory under sustained load, sampled after GC: [--duration S --rate R --max-growth PCT]
soak *args:
    npm run soak -- "$@"

# Throughput for WORKERS=1..cores and its R²: [--step-duration S --workers 1,2]
scaling *args:
    npm run bench:scaling -- "$@"

# Groups of checks, each PASS or FAIL: loaders|caching|resilience|system|all
verify target="all":
    npm run verify -- "$@"
