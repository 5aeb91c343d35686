#!/usr/bin/env bash
# Issue 21's GPU figures in one short run on a lent GPU machine, which starts bare and reaches no package
# index: its image has torch, torchvision, OpenCV, onnx, onnxruntime (CPU), scikit-learn, pandas and
# matplotlib, not lap, motmetrics and onnx2torch, and no ../shared/data.
#
#   bash benchmarks/gpu_check.sh prepare    # here (package index and RFV_DATA reachable): their wheels, for
#                                           # the GPU machine's Python 3.12, into .whl/, and the two ONNX
#                                           # models and MOT17-04's 8 frames into .gpu_data/ (both
#                                           # git-ignored locally)
#   bash benchmarks/gpu_check.sh run        # there, with .whl and .gpu_data carried; 9 minutes at most
#   bash benchmarks/gpu_check.sh run --cpu  # the same steps, small, on a CPU: a check of the script itself
#
# run installs the wheels and this checkout without the index, then runs each check under its own time
# limit, each writing its log to $OUT (else runs/gpu-check) as it goes, and goes on past a failed one:
#   device.txt     the card (nvidia-smi) and torch's view of it
#   train.log      benchmarks/bench_train.py: ResNet-50 256x128 bf16, data loading included (goal >= 3,000
#                  images/s), against the PIL + torchvision loader on the same network
#   embed.log      benchmarks/bench_embed.py on cuda: ResNet-50 crops/s per format (eager, TorchScript, ONNX)
#   cluster.log    benchmarks/bench_cluster.py: N = 20,000 on the GPU (goal < 1 s), and on the CPU
#   cameras.log    benchmarks/bench_cameras.py: how many 1080p crowd cameras at 10 frames/s the GPU tracks
#                  with YOLOX-nano + OSNet-x0.25 (the ONNX files on the GPU through torch: onnx2torch,
#                  since the image's onnxruntime has no CUDA provider; ultralytics' YOLO weights are
#                  downloads), on a 100-frame clip
#   demo.log       rfv demo with pipeline.train.device=cuda (the synthetic world; training on the GPU)
set -u
cd "$(dirname "$0")/.."
WHEELS=(lap==0.5.13 motmetrics==1.4.0 xmltodict==1.0.4 onnx2torch==1.5.15)
DATA=(models/yolox_nano.onnx models/osnet_x0_25_msmt17.onnx mot17/mini/MOT17-04-FRCNN/img1)

prepare() {
    grep -qxF "/.whl/" .git/info/exclude 2>/dev/null || echo "/.whl/" >>.git/info/exclude
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --platform manylinux1_x86_64 -d .whl "${WHEELS[@]}" || exit 1
    ls .whl
    local data=${RFV_DATA:-../shared/data} item
    grep -qxF "/.gpu_data/" .git/info/exclude || echo "/.gpu_data/" >>.git/info/exclude
    for item in "${DATA[@]}"; do
        [ -e "$data/$item" ] || { echo "$data/$item not found (RFV_DATA)" >&2; exit 1; }
        mkdir -p ".gpu_data/$(dirname "$item")"
        cp -r "$data/$item" ".gpu_data/$(dirname "$item")/"
    done
    du -sh .whl .gpu_data
    echo "now: the device tool's run, carry [\".whl\", \".gpu_data\"], command \"bash benchmarks/gpu_check.sh run\""
}

check() {  # check NAME SECONDS COMMAND...: the command's output to NAME.log, its time and status after it
    local name=$1 limit=$2 start status
    shift 2
    start=$(date +%s)
    echo "== $name: $* (limit ${limit} s)"
    PYTHONUNBUFFERED=1 timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
    status=$?
    echo "== $name: exit $status after $(($(date +%s) - start)) s" >>"$OUT/$name.log"
    tail -n 12 "$OUT/$name.log"
}

run() {
    OUT=${OUT:-runs/gpu-check}
    mkdir -p "$OUT"
    local work small=()
    work=$(mktemp -d)
    if [ "${1:-}" = "--cpu" ]; then  # the script's own check: every step, small
        small=(1)
    fi
    if ! python3 -c "import lap, motmetrics, onnx2torch" 2>/dev/null; then  # the GPU image lacks them
        python3 -m pip install -q --no-index --no-deps --no-compile --target "$work/site" .whl/*.whl || exit 1
        export PYTHONPATH="$work/site${PYTHONPATH:+:$PYTHONPATH}"
    fi
    python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . || exit 1
    { nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1
      python3 -c "import torch; print('torch', torch.__version__, 'cuda:', torch.cuda.is_available() and torch.cuda.get_device_name())"
    } | tee "$OUT/device.txt"
    if [ ${#small[@]} -eq 0 ]; then
        # limits: 550 s together, so that the run with its set-up fits a 600 s device call
        check train 150 python3 benchmarks/bench_train.py --steps 40
        check embed 40 python3 benchmarks/bench_embed.py --models resnet50 --device cuda --rounds 3
        check cluster 70 python3 benchmarks/bench_cluster.py --n 1000 --skip-reference --skip-float64
        check cameras 110 python3 benchmarks/bench_cameras.py --data .gpu_data --out "$work/cameras" \
            --frames 100 --set detector.score_min=0.15 detector.device=cuda embedder.device=cuda
        check demo 180 python3 -m reid_from_video demo --out "$work/demo" pipeline.train.device=cuda
    else
        check train 600 python3 benchmarks/bench_train.py --steps 2 --warmup 1 --rounds 1
        check embed 120 python3 benchmarks/bench_embed.py --models tiny --device cpu --rounds 1
        check cluster 200 python3 benchmarks/bench_cluster.py --n 500 --large-n 2000 --skip-reference \
            --skip-float64
        check cameras 300 python3 benchmarks/bench_cameras.py --data "${RFV_DATA:-.gpu_data}" \
            --out "$work/cameras" --frames 30 --max-cameras 2 --fps 1
        check demo 900 python3 -m reid_from_video demo --out "$work/demo" world.seconds=10 heldout.seconds=10 \
            pipeline.train.epochs=1
    fi
}

case "${1:-}" in
    prepare) prepare ;;
    run) shift; run "$@" ;;
    *) echo "usage: bash benchmarks/gpu_check.sh prepare | run [--cpu]" >&2; exit 2 ;;
esac
