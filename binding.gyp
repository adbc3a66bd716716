{
  # LIBTORCH=/path/to/libtorch builds against another libtorch (for example a CUDA build, unpacked from
  # PyTorch's libtorch archive, cxx11 ABI); by default Debian's libtorch-dev in /usr is used.
  "variables": {
    "libtorch%": "<!(node -p \"process.env.LIBTORCH || ''\")",
    "with_cuda%": "<!(node -p \"(process.env.LIBTORCH && require('fs').existsSync(process.env.LIBTORCH + '/lib/libtorch_cuda.so')) ? 1 : 0\")",
    # Debian's libtorch-dev lacks the distributed-autograd header that c10d/reducer.hpp includes; a stand-in
    # (native/compat) fills in when it is missing.
    "has_dist_autograd%": "<!(node -p \"require('fs').existsSync((process.env.LIBTORCH || '/usr') + '/include/torch/csrc/distributed/autograd/context/context.h') ? 1 : 0\")"
  },
  "targets": [
    {
      "target_name": "avid_native",
      "sources": [
        "native/addon.cc",
        "native/common.cc",
        "native/ops_creation.cc",
        "native/ops_shape.cc",
        "native/ops_pointwise.cc",
        "native/ops_reduce.cc",
        "native/ops_nn.cc",
        "native/ops_autograd.cc",
        "native/ops_optim.cc",
        "native/runtime.cc",
        "native/distributed.cc",
        "native/ops_device.cc",
        "native/media_container.cc",
        "native/media_decode.cc",
        "native/media_binding.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      # FFmpeg's libraries (Debian: libavformat-dev libavcodec-dev libswscale-dev libswresample-dev libavutil-dev)
      # decode clips in process (native/media_*.cc).
      "libraries": ["-ltorch", "-ltorch_cpu", "-lc10", "<!@(pkg-config --libs libavformat libavcodec libswscale libswresample libavutil)"],
      "cflags_cc+": ["<!@(pkg-config --cflags libavformat libavcodec libswscale libswresample libavutil)"],
      "conditions": [
        ["libtorch!=''", {
          "include_dirs": ["<(libtorch)/include", "<(libtorch)/include/torch/csrc/api/include"],
          "libraries": ["-L<(libtorch)/lib", "-Wl,-rpath,<(libtorch)/lib"]
        }],
        ["has_dist_autograd==0", {
          "include_dirs": ["native/compat"]
        }],
        ["with_cuda==1", {
          "defines": ["AVID_WITH_CUDA"],
          "libraries": ["-Wl,--no-as-needed", "-ltorch_cuda", "-lc10_cuda", "-Wl,--as-needed"]
        }]
      ]
    }
  ]
}
