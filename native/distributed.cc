// Data-parallel collectives over libtorch's own distributed engine, c10d: a FileStore for rendezvous when
// every rank is on this machine (a file in a private folder: no port opens), else a TCPStore that rank 0
// serves (libtorch's TCPStore listens on every interface, unauthenticated: see docs/distributed.md), and
// ProcessGroupGloo on CPU, or ProcessGroupNCCL in a CUDA build. One process group per process, as
// torch.distributed's default group.
//
// Every collective blocks the calling (JavaScript) thread until the work completes, but never longer than the
// group's timeout: c10d's Work::wait(timeout) throws when it expires, and Gloo's own transport timeout fails
// the operation underneath. A failure becomes a JavaScript error naming this rank, the operation and the
// cause, and leaves the group marked broken so that later calls fail at once with the first cause instead of
// waiting again.
//
// Headers: ProcessGroupGloo.hpp needs Gloo's headers (Debian: libgloo-dev; libgloo itself is linked by
// libtorch_cpu). Without them the addon still builds, and distInit says what to install.
#include "common.h"

#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <unistd.h>
#include <csignal>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#if __has_include(<gloo/algorithm.h>) && !defined(AVID_NO_GLOO)
#define AVID_WITH_GLOO 1
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif

#if defined(AVID_WITH_CUDA) && __has_include(<nccl.h>)
#define AVID_WITH_NCCL 1
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace avid {

namespace {

using Millis = std::chrono::milliseconds;

// The process-wide group. Deliberately heap-allocated and never destroyed at exit: destroying a
// ProcessGroupGloo joins its worker threads, which would hang process exit if a peer died mid-operation.
// distDestroy() releases it explicitly.
struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  int rank = 0;
  int worldSize = 1;
  Millis timeout{0};
  std::string backend;
  std::string storeKind;  // "file" or "tcp"
  std::string broken;  // the first failure's message; non-empty = unusable
  // Every rank's host name and process id, exchanged at init: when a collective fails, the survivor looks up
  // which peers on its own machine are gone, so that its error names the dead rank.
  std::vector<std::string> peerHosts;
  std::vector<int64_t> peerPids;
};

std::string thisHost() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0) return "?";
  return name;
}

// Whether a process of this machine has ended: no /proc entry, or a zombie its parent has not reaped yet.
bool processEnded(int64_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] == 'Z' || line[close + 2] == 'X';
}

// "rank 1 (pid 4242) is no longer running" for each peer on this machine that has ended; empty when none has
// or when peers are on other machines (their liveness cannot be seen from here). A killed process closes its
// sockets before the kernel marks it a zombie, so a survivor that saw the connection close may look a moment
// too early: it polls for up to `waitMs` until some peer shows as ended.
std::string deadPeers(const Group& g, int waitMs) {
  std::string host = thisHost();
  auto deadline = std::chrono::steady_clock::now() + Millis(waitMs);
  for (;;) {
    std::ostringstream out;
    int found = 0;
    for (size_t r = 0; r < g.peerPids.size(); ++r) {
      if (static_cast<int>(r) == g.rank || g.peerHosts[r] != host || g.peerPids[r] <= 0) continue;
      if (!processEnded(g.peerPids[r])) continue;
      out << (found++ ? ", " : "") << "rank " << r << " (pid " << g.peerPids[r] << ")";
    }
    if (found) return out.str() + (found == 1 ? " is" : " are") + " no longer running";
    if (std::chrono::steady_clock::now() >= deadline) return "";
    std::this_thread::sleep_for(Millis(20));
  }
}

std::mutex groupMutex;
Group* group = nullptr;

Group& requireGroup(const char* op) {
  if (!group) {
    throw std::runtime_error(std::string("distributed ") + op +
                             ": no process group (call initProcessGroup first)");
  }
  if (!group->broken.empty()) {
    throw std::runtime_error("distributed " + std::string(op) + " on rank " + std::to_string(group->rank) +
                             ": the process group is unusable after an earlier failure: " + group->broken);
  }
  return *group;
}

std::string describeFailure(const Group& g, const char* op, const std::string& cause) {
  std::ostringstream out;
  out << "distributed " << op << " failed on rank " << g.rank << " of " << g.worldSize << " (" << g.backend
      << ", timeout " << g.timeout.count() << " ms): ";
  bool timedOut = cause.find("imed out") != std::string::npos || cause.find("imeout") != std::string::npos;
  if (timedOut && std::string(op) == "init") {
    out << "not every rank joined the rendezvous within the timeout (are all ranks started, with the same "
           "MASTER_ADDR and MASTER_PORT, and is rank 0 reachable there?): ";
  } else if (timedOut) {
    out << "no answer from the other ranks within the timeout (a peer may have died, stalled, or called a "
           "different collective): ";
  }
  bool closed = cause.find("Connection closed by peer") != std::string::npos ||
                cause.find("Connection reset") != std::string::npos || cause.find("Broken pipe") != std::string::npos;
  if (closed && !timedOut) out << "a peer process closed its connection (it probably exited or crashed): ";
  out << cause;
  std::string dead = deadPeers(g, closed ? 1000 : 0);
  if (!dead.empty()) out << " [" << dead << "]";
  return out.str();
}

// Runs one collective step; any c10d/Gloo error becomes a runtime_error naming rank and operation, and marks
// the group broken.
template <class F>
auto guarded(Group& g, const char* op, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::invalid_argument&) {
    throw;  // a check every rank made alike on exchanged metadata: the group itself is still in step
  } catch (const c10::Error& e) {
    g.broken = describeFailure(g, op, e.what_without_backtrace());
  } catch (const std::exception& e) {
    g.broken = describeFailure(g, op, e.what());
  }
  throw std::runtime_error(g.broken);
}

void waitAll(Group& g, std::vector<c10::intrusive_ptr<c10d::Work>>& works) {
  // One deadline for the whole set, so that a stalled peer costs one timeout, not one per bucket. Stopping
  // at the first failure is safe: each work holds references to its tensors until its threads let go.
  auto deadline = std::chrono::steady_clock::now() + g.timeout;
  for (auto& work : works) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    work->wait(std::max(left, Millis(1)));
  }
}

// ---- buckets --------------------------------------------------------------------------------------------

// Consecutive tensors of one dtype and device flattened into one contiguous buffer of at most `bucketBytes`
// (a tensor larger than that gets a bucket of its own), so that many small gradients cost few messages.
struct Bucket {
  std::vector<size_t> members;
  at::Tensor flat;
  bool aliased = false;  // flat *is* the single member (contiguous), nothing to copy back
};

std::vector<Bucket> makeBuckets(const std::vector<at::Tensor>& tensors, int64_t bucketBytes, bool fill) {
  std::vector<Bucket> buckets;
  std::vector<size_t> current;
  int64_t currentBytes = 0;
  auto close = [&]() {
    if (current.empty()) return;
    Bucket b;
    b.members = current;
    if (current.size() == 1 && tensors[current[0]].is_contiguous()) {
      b.flat = tensors[current[0]].view({-1});
      b.aliased = true;
    } else if (fill) {
      std::vector<at::Tensor> parts;
      parts.reserve(current.size());
      for (size_t i : current) parts.push_back(tensors[i].reshape({-1}));
      b.flat = at::cat(parts);
    } else {
      int64_t n = 0;
      for (size_t i : current) n += tensors[i].numel();
      b.flat = at::empty({n}, tensors[current[0]].options());
    }
    buckets.push_back(std::move(b));
    current.clear();
    currentBytes = 0;
  };
  for (size_t i = 0; i < tensors.size(); ++i) {
    const at::Tensor& t = tensors[i];
    if (t.numel() == 0) continue;  // nothing to exchange (every rank has the same shapes)
    int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
    if (!current.empty()) {
      const at::Tensor& head = tensors[current[0]];
      if (head.scalar_type() != t.scalar_type() || head.device() != t.device() || currentBytes + bytes > bucketBytes) close();
    }
    current.push_back(i);
    currentBytes += bytes;
  }
  close();
  return buckets;
}

void scatterBack(const std::vector<at::Tensor>& tensors, const Bucket& b) {
  if (b.aliased) return;
  int64_t offset = 0;
  for (size_t i : b.members) {
    const at::Tensor& t = tensors[i];
    t.copy_(b.flat.narrow(0, offset, t.numel()).view(t.sizes()));
    offset += t.numel();
  }
}

void checkTensors(const std::vector<at::Tensor>& tensors, const char* op) {
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].is_sparse()) throw std::invalid_argument(std::string(op) + ": tensor " + std::to_string(i) + " is sparse (dense tensors only)");
  }
}

// ---- operations -----------------------------------------------------------------------------------------

c10::intrusive_ptr<c10d::ProcessGroup> createGroup(const std::string& backend, const c10::intrusive_ptr<c10d::Store>& store,
                                                   int rank, int worldSize, Millis timeout, const std::string& masterAddr) {
  if (backend == "gloo") {
#ifdef AVID_WITH_GLOO
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // The device is the network interface Gloo binds to: GLOO_SOCKET_IFNAME as in PyTorch; loopback when
    // the master is local (single machine); otherwise the address this machine's hostname resolves to.
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    bool localMaster = masterAddr == "localhost" || masterAddr.rfind("127.", 0) == 0 || masterAddr == "::1";
    if (ifname && *ifname) options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (localMaster) options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    options->threads = 2;
    return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, worldSize, options);
#else
    throw std::runtime_error(
        "this build of avid's addon has no Gloo: its headers were missing at build time (Debian: apt-get install "
        "libgloo-dev, then npm run build:native)");
#endif
  }
  if (backend == "nccl") {
#ifdef AVID_WITH_NCCL
    // Without blocking wait, NCCL's wait() only orders CUDA streams and a dead peer is noticed by a
    // watchdog much later; blocking wait makes wait(timeout) fail within the timeout, as Gloo does.
    setenv("NCCL_BLOCKING_WAIT", "1", 0);
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, worldSize, options);
#else
    throw std::runtime_error(
        "this build of avid's addon has no NCCL (it needs a CUDA libtorch, LIBTORCH=..., and nccl.h at build time)");
#endif
  }
  throw std::invalid_argument("unknown distributed backend '" + backend + "' (allowed: gloo, nccl)");
}

// Publishes this rank's host and pid in the store and reads every peer's (the group's rendezvous has already
// made sure that all ranks wrote theirs before it completed).
void exchangeIdentities(Group& g, const c10::intrusive_ptr<c10d::Store>& store) {
  g.peerHosts.assign(g.worldSize, "");
  g.peerPids.assign(g.worldSize, 0);
  for (int r = 0; r < g.worldSize; ++r) {
    auto bytes = store->get("identity/" + std::to_string(r));
    std::string value(bytes.begin(), bytes.end());
    auto space = value.rfind(' ');
    if (space == std::string::npos) continue;
    g.peerHosts[r] = value.substr(0, space);
    g.peerPids[r] = std::atoll(value.c_str() + space + 1);
  }
}

void publishIdentity(const Group& g, const c10::intrusive_ptr<c10d::Store>& store) {
  std::string value = thisHost() + " " + std::to_string(getpid());
  store->set("identity/" + std::to_string(g.rank), std::vector<uint8_t>(value.begin(), value.end()));
}

// (rank, worldSize, masterAddr, masterPort, timeoutMs, backend, storeFile)
// storeFile non-empty: rendezvous through c10d's FileStore at that path (all ranks on this machine).
Napi::Value distInit(Args& a) {
  int rank = static_cast<int>(a.i64(0));
  int worldSize = static_cast<int>(a.i64(1));
  std::string masterAddr = a.str(2);
  int64_t port = a.i64(3);
  int64_t timeoutMs = a.i64(4);
  std::string backend = a.has(5) ? a.str(5) : "gloo";
  std::string storeFile = a.has(6) ? a.str(6) : "";
  if (worldSize < 1) throw std::invalid_argument("initProcessGroup: worldSize must be >= 1, got " + std::to_string(worldSize));
  if (rank < 0 || rank >= worldSize)
    throw std::invalid_argument("initProcessGroup: rank must be in [0, " + std::to_string(worldSize - 1) + "], got " + std::to_string(rank));
  if (port < 1 || port > 65535) throw std::invalid_argument("initProcessGroup: masterPort must be in [1, 65535], got " + std::to_string(port));
  if (timeoutMs < 1) throw std::invalid_argument("initProcessGroup: timeoutMs must be positive, got " + std::to_string(timeoutMs));
  if (backend != "gloo" && backend != "nccl")
    throw std::invalid_argument("initProcessGroup: unknown distributed backend '" + backend + "' (allowed: gloo, nccl)");

  std::lock_guard<std::mutex> lock(groupMutex);
  if (group) throw std::runtime_error("initProcessGroup: a process group already exists on rank " + std::to_string(group->rank) + " (call destroy first)");
  auto g = std::make_unique<Group>();
  g->rank = rank;
  g->worldSize = worldSize;
  g->timeout = Millis(timeoutMs);
  g->backend = backend;
  g->storeKind = storeFile.empty() ? "tcp" : "file";
  std::string where = storeFile.empty() ? masterAddr + ":" + std::to_string(port) : "file " + storeFile;
  try {
    c10::intrusive_ptr<c10d::Store> base;
    if (!storeFile.empty()) {
      auto file = c10::make_intrusive<c10d::FileStore>(storeFile, worldSize);
      file->setTimeout(g->timeout);
      base = file;
    } else {
      c10d::TCPStoreOptions storeOptions;
      storeOptions.port = static_cast<uint16_t>(port);
      storeOptions.isServer = rank == 0;
      storeOptions.numWorkers = static_cast<size_t>(worldSize);
      storeOptions.waitWorkers = false;  // the group's rendezvous below waits for every rank, with the timeout
      storeOptions.timeout = g->timeout;
      base = c10::make_intrusive<c10d::TCPStore>(masterAddr, storeOptions);
    }
    g->store = c10::make_intrusive<c10d::PrefixStore>("avid/default_pg", base);
    auto identities = c10::make_intrusive<c10d::PrefixStore>("avid", base);
    publishIdentity(*g, identities);
    g->pg = createGroup(backend, g->store, rank, worldSize, g->timeout, masterAddr);
    exchangeIdentities(*g, identities);
  } catch (const c10::Error& e) {
    throw std::runtime_error(describeFailure(*g, "init", "rendezvous at " + where + ": " + e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw std::runtime_error(describeFailure(*g, "init", "rendezvous at " + where + ": " + e.what()));
  }
  group = g.release();
  return a.undefined();
}

Napi::Value distDestroy(Args& a) {
  std::lock_guard<std::mutex> lock(groupMutex);
  if (!group) return a.undefined();
  Group* g = group;
  group = nullptr;
  if (g->broken.empty()) delete g;
  // A broken group may have a Gloo thread still stuck on a dead peer until its own timeout; destroying it
  // would block here, so it is left to the process's end.
  return a.undefined();
}

Napi::Value distInfo(Args& a) {
  std::lock_guard<std::mutex> lock(groupMutex);
  if (!group) return a.env.Null();
  auto o = Napi::Object::New(a.env);
  o.Set("rank", group->rank);
  o.Set("worldSize", group->worldSize);
  o.Set("backend", group->backend);
  o.Set("timeoutMs", static_cast<double>(group->timeout.count()));
  o.Set("store", group->storeKind);
  o.Set("broken", group->broken.empty() ? a.env.Null() : Napi::String::New(a.env, group->broken));
  return o;
}

// (launcherPid) A rank started by `avid launch` ends with its launcher: the kernel sends it SIGTERM when the
// parent dies (PR_SET_PDEATHSIG), even while its JavaScript thread is blocked in a collective. If the launcher
// is already gone (this process was re-parented before the call), it stops now. Linux only; elsewhere a no-op.
Napi::Value exitWithParent(Args& a) {
  int64_t launcherPid = a.i64(0);
#ifdef __linux__
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) throw std::runtime_error("exitWithParent: prctl(PR_SET_PDEATHSIG) failed");
  if (static_cast<int64_t>(getppid()) != launcherPid) raise(SIGTERM);
  return Napi::Boolean::New(a.env, true);
#else
  (void)launcherPid;
  return Napi::Boolean::New(a.env, false);
#endif
}

Napi::Value distBackends(Args& a) {
  auto list = Napi::Array::New(a.env);
  uint32_t n = 0;
#ifdef AVID_WITH_GLOO
  list.Set(n++, "gloo");
#endif
#ifdef AVID_WITH_NCCL
  list.Set(n++, "nccl");
#endif
  (void)n;
  return list;
}

// An all-reduce in flight: its buckets are being exchanged by Gloo's threads (or on NCCL's stream) while the
// JavaScript thread goes on; finishing it waits, averages and copies the results back into the tensors.
struct PendingAllReduce {
  std::vector<at::Tensor> tensors;
  std::vector<Bucket> buckets;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  bool average = false;
  bool finished = false;
};

const napi_type_tag kPendingTag = {0x6176696470656e64ULL, 0x696e67726564756cULL};

std::unique_ptr<PendingAllReduce> startAllReduce(Args& a, Group& g) {
  auto pending = std::make_unique<PendingAllReduce>();
  pending->tensors = a.tensors(0);
  pending->average = a.flagOr(1, false);
  int64_t bucketBytes = a.i64Or(2, 25 << 20);
  const auto& tensors = pending->tensors;
  checkTensors(tensors, "allReduce");
  if (pending->average) {
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (!at::isFloatingType(tensors[i].scalar_type()) && !at::isComplexType(tensors[i].scalar_type()))
        throw std::invalid_argument("allReduce: averaging needs floating-point tensors; tensor " + std::to_string(i) + " is " + dtypeName(tensors[i].scalar_type()));
    }
  }
  at::NoGradGuard noGrad;
  guarded(g, "allReduce", [&] {
    pending->buckets = makeBuckets(tensors, bucketBytes, true);
    for (auto& b : pending->buckets) {
      std::vector<at::Tensor> one{b.flat};
      c10d::AllreduceOptions opts;
      opts.reduceOp = c10d::ReduceOp::SUM;
      opts.timeout = g.timeout;
      pending->works.push_back(g.pg->allreduce(one, opts));
    }
  });
  return pending;
}

void finishAllReduce(Group& g, PendingAllReduce& pending) {
  if (pending.finished) throw std::invalid_argument("allReduce: this pending all-reduce was already waited for");
  pending.finished = true;
  at::NoGradGuard noGrad;
  guarded(g, "allReduce", [&] {
    waitAll(g, pending.works);
    for (auto& b : pending.buckets) {
      if (pending.average) b.flat.div_(g.worldSize);
      scatterBack(pending.tensors, b);
    }
  });
  pending.buckets.clear();
  pending.works.clear();
  pending.tensors.clear();
}

// (tensors[], average, bucketBytes): sums (or averages) every tensor across ranks, in place.
Napi::Value distAllReduce(Args& a) {
  std::lock_guard<std::mutex> lock(groupMutex);
  Group& g = requireGroup("allReduce");
  auto pending = startAllReduce(a, g);
  finishAllReduce(g, *pending);
  return a.undefined();
}

// Same arguments; returns a pending handle at once, for distAllReduceWait: communication overlaps whatever
// the caller computes meanwhile (which must not touch these tensors). Every rank must start its collectives
// in the same order.
Napi::Value distAllReduceStart(Args& a) {
  std::lock_guard<std::mutex> lock(groupMutex);
  Group& g = requireGroup("allReduce");
  auto pending = startAllReduce(a, g);
  // A handle dropped without waiting: the works keep their buffers alive, so freeing it is safe.
  auto external = Napi::External<PendingAllReduce>::New(a.env, pending.release(), [](Napi::Env, PendingAllReduce* p) { delete p; });
  external.TypeTag(&kPendingTag);
  return external;
}

Napi::Value distAllReduceWait(Args& a) {
  Napi::Value v = a.at(0);
  if (!v.IsExternal() || !v.As<Napi::External<PendingAllReduce>>().CheckTypeTag(&kPendingTag))
    throw std::invalid_argument("allReduce wait: argument 0 is not a pending all-reduce");
  std::lock_guard<std::mutex> lock(groupMutex);
  Group& g = requireGroup("allReduce");
  finishAllReduce(g, *v.As<Napi::External<PendingAllReduce>>().Data());
  return a.undefined();
}

// (tensors[], root, bucketBytes): every rank's tensors become the root's, in place.
Napi::Value distBroadcast(Args& a) {
  std::vector<at::Tensor> tensors = a.tensors(0);
  int64_t root = a.i64Or(1, 0);
  int64_t bucketBytes = a.i64Or(2, 25 << 20);
  std::lock_guard<std::mutex> lock(groupMutex);
  Group& g = requireGroup("broadcast");
  if (root < 0 || root >= g.worldSize)
    throw std::invalid_argument("broadcast: root must be in [0, " + std::to_string(g.worldSize - 1) + "], got " + std::to_string(root));
  checkTensors(tensors, "broadcast");
  at::NoGradGuard noGrad;
  guarded(g, "broadcast", [&] {
    bool isRoot = g.rank == root;
    auto buckets = makeBuckets(tensors, bucketBytes, isRoot);
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& b : buckets) {
      std::vector<at::Tensor> one{b.flat};
      c10d::BroadcastOptions opts;
      opts.rootRank = root;
      opts.timeout = g.timeout;
      works.push_back(g.pg->broadcast(one, opts));
    }
    waitAll(g, works);
    if (!isRoot) for (auto& b : buckets) scatterBack(tensors, b);
  });
  return a.undefined();
}

// Sum across ranks that autograd can differentiate: the gradient of every rank's input is the sum of all
// ranks' output gradients (each rank's output feeds every rank's loss). The building block of synchronised
// batch norm, whose statistics are all-reduced in the forward pass and whose backward then all-reduces the
// statistics' gradients. Backward passes run in graph order, the same on every rank for the same model.
void allReduceSumNow(Group& g, const at::Tensor& flat, const char* op) {
  guarded(g, op, [&] {
    std::vector<at::Tensor> one{flat};
    c10d::AllreduceOptions opts;
    opts.reduceOp = c10d::ReduceOp::SUM;
    opts.timeout = g.timeout;
    std::vector<c10::intrusive_ptr<c10d::Work>> works{g.pg->allreduce(one, opts)};
    waitAll(g, works);
  });
}

struct AllReduceWithGrad : public torch::autograd::Function<AllReduceWithGrad> {
  // Called with groupMutex held (from distAllReduceWithGrad).
  static at::Tensor forward(torch::autograd::AutogradContext*, const at::Tensor& input) {
    at::Tensor out = input.contiguous().clone();
    allReduceSumNow(requireGroup("allReduceWithGrad"), out, "allReduceWithGrad");
    return out;
  }
  // Called by the autograd engine during backward(), without the lock.
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext*, torch::autograd::variable_list grads) {
    std::lock_guard<std::mutex> lock(groupMutex);
    at::NoGradGuard noGrad;
    at::Tensor g = grads[0].contiguous().clone();
    allReduceSumNow(requireGroup("allReduceWithGrad backward"), g, "allReduceWithGrad backward");
    return {g};
  }
};

Napi::Value distAllReduceWithGrad(Args& a) {
  at::Tensor input = a.tensor(0);
  checkTensors({input}, "allReduceWithGrad");
  std::lock_guard<std::mutex> lock(groupMutex);
  requireGroup("allReduceWithGrad");
  return a.ret(AllReduceWithGrad::apply(input));
}

constexpr int64_t kMaxGatherDims = 16;

// (tensor, concat): every rank's tensor, in rank order. Trailing dimensions and dtype must agree across
// ranks; the first dimension may differ (ragged last batches): tensors are padded to the longest for the
// transfer and trimmed after. concat = one tensor joined along dim 0 (stacked for 0-d tensors); otherwise
// an array of worldSize tensors.
Napi::Value distAllGather(Args& a) {
  at::Tensor input = a.tensor(0);
  bool concat = a.flagOr(1, true);
  std::lock_guard<std::mutex> lock(groupMutex);
  Group& g = requireGroup("allGather");
  if (input.dim() > kMaxGatherDims) throw std::invalid_argument("allGather: at most 16 dimensions, got " + std::to_string(input.dim()));
  checkTensors({input}, "allGather");
  at::NoGradGuard noGrad;
  std::vector<at::Tensor> parts = guarded(g, "allGather", [&] {
    // 1. Exchange [dtype, ndim, sizes...] so that a mismatch is an error naming the ranks, not garbage.
    auto metaOptions = at::TensorOptions().dtype(at::kLong).device(input.device());
    at::Tensor meta = at::full({kMaxGatherDims + 2}, -1, at::TensorOptions().dtype(at::kLong));
    auto m = meta.accessor<int64_t, 1>();
    m[0] = static_cast<int64_t>(input.scalar_type());
    m[1] = input.dim();
    for (int64_t d = 0; d < input.dim(); ++d) m[2 + d] = input.size(d);
    meta = meta.to(metaOptions.device());
    std::vector<at::Tensor> metaIn{meta};
    std::vector<std::vector<at::Tensor>> metaOut(1);
    for (int r = 0; r < g.worldSize; ++r) metaOut[0].push_back(at::empty_like(meta));
    c10d::AllgatherOptions opts;
    opts.timeout = g.timeout;
    std::vector<c10::intrusive_ptr<c10d::Work>> works{g.pg->allgather(metaOut, metaIn, opts)};
    waitAll(g, works);
    std::vector<int64_t> rows(g.worldSize, 0);
    int64_t maxRows = 0;
    for (int r = 0; r < g.worldSize; ++r) {
      at::Tensor other = metaOut[0][r].cpu();
      auto o = other.accessor<int64_t, 1>();
      bool same = o[0] == m[0] && o[1] == m[1];
      for (int64_t d = 1; same && d < input.dim(); ++d) same = o[2 + d] == m[2 + d];
      if (!same) {
        std::ostringstream msg;
        msg << "allGather: rank " << r << " sent a tensor of dtype " << dtypeName(static_cast<at::ScalarType>(o[0])) << " and shape [";
        for (int64_t d = 0; d < o[1]; ++d) msg << (d ? ", " : "") << o[2 + d];
        msg << "] but rank " << g.rank << " has " << dtypeName(input.scalar_type()) << " " << input.sizes()
            << " (all ranks need the same dtype and the same sizes after the first dimension)";
        throw std::invalid_argument(msg.str());
      }
      rows[r] = input.dim() > 0 ? o[2] : 1;
      maxRows = std::max(maxRows, rows[r]);
    }
    // 2. The data, padded along dim 0 to the longest.
    at::Tensor send = input.contiguous();
    if (input.dim() > 0 && send.size(0) < maxRows) {
      std::vector<int64_t> padShape = send.sizes().vec();
      padShape[0] = maxRows - send.size(0);
      send = at::cat({send, at::zeros(padShape, send.options())});
    }
    std::vector<at::Tensor> in{send};
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < g.worldSize; ++r) out[0].push_back(at::empty_like(send));
    works = {g.pg->allgather(out, in, opts)};
    waitAll(g, works);
    std::vector<at::Tensor> result;
    for (int r = 0; r < g.worldSize; ++r) result.push_back(input.dim() > 0 ? out[0][r].narrow(0, 0, rows[r]) : out[0][r]);
    return result;
  });
  if (!concat) {
    for (auto& p : parts) p = p.contiguous();
    return a.ret(parts);
  }
  return a.ret(input.dim() > 0 ? at::cat(parts) : at::stack(parts));
}

Napi::Value distBarrier(Args& a) {
  std::lock_guard<std::mutex> lock(groupMutex);
  Group& g = requireGroup("barrier");
  guarded(g, "barrier", [&] {
    c10d::BarrierOptions opts;
    opts.timeout = g.timeout;
    std::vector<c10::intrusive_ptr<c10d::Work>> works{g.pg->barrier(opts)};
    waitAll(g, works);
  });
  return a.undefined();
}

// ---- gradient exchange overlapped with backward ----------------------------------------------------------
//
// libtorch's c10d::Reducer (the engine under PyTorch's DistributedDataParallel): autograd hooks on every
// parameter's gradient accumulator mark it ready during backward; when a bucket's parameters are all ready its
// asynchronous all-reduce starts at once, while backward goes on computing earlier layers; at the end of
// backward an engine callback waits for the buckets and writes the averaged gradients back. Buckets are
// assigned as DDP does: by size, in reverse parameter order (the order backward produces gradients), a small
// first bucket so that communication starts early. Every parameter must get a gradient each step.

const napi_type_tag kReducerTag = {0x6176696472656475ULL, 0x6365726772616473ULL};

struct ReducerHolder {
  std::unique_ptr<c10d::Reducer> reducer;
};

ReducerHolder* unwrapReducer(Napi::Value v) {
  if (!v.IsExternal() || !v.As<Napi::External<ReducerHolder>>().CheckTypeTag(&kReducerTag))
    throw std::invalid_argument("argument 0 is not a gradient-sync handle");
  auto* h = v.As<Napi::External<ReducerHolder>>().Data();
  if (!h->reducer) throw std::invalid_argument("the gradient sync was closed");
  return h;
}

// (params, bucketBytes, firstBucketBytes) -> handle
Napi::Value distGradSyncCreate(Args& a) {
  std::lock_guard<std::mutex> lock(groupMutex);
  Group& g = requireGroup("gradient sync");
  auto params = a.tensors(0);
  size_t bucketBytes = static_cast<size_t>(a.i64Or(1, 25 << 20));
  size_t firstBucketBytes = static_cast<size_t>(a.i64Or(2, 1 << 20));
  if (params.empty()) throw std::invalid_argument("gradient sync: no parameters");
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i].requires_grad()) throw std::invalid_argument("gradient sync: parameter " + std::to_string(i) + " does not require grad");
    if (params[i].is_sparse()) throw std::invalid_argument("gradient sync: parameter " + std::to_string(i) + " is sparse");
  }
  std::vector<bool> sparse(params.size(), false);
  auto assignment = c10d::compute_bucket_assignment_by_size(params, {firstBucketBytes, bucketBytes}, sparse);
  auto buckets = std::get<0>(assignment);
  auto limits = std::get<1>(assignment);
  std::reverse(buckets.begin(), buckets.end());
  std::reverse(limits.begin(), limits.end());
  auto holder = new ReducerHolder();
  try {
    holder->reducer = std::make_unique<c10d::Reducer>(params, buckets, limits, g.pg, sparse, static_cast<int64_t>(bucketBytes),
                                                      /*find_unused_parameters=*/false, /*gradient_as_bucket_view=*/false,
                                                      std::unordered_map<size_t, std::string>(), static_cast<int64_t>(firstBucketBytes));
  } catch (...) {
    delete holder;
    throw;
  }
  auto external = Napi::External<ReducerHolder>::New(a.env, holder, [](Napi::Env, ReducerHolder* h) {
    try {
      h->reducer.reset();
    } catch (...) {
    }
    delete h;
  });
  external.TypeTag(&kReducerTag);
  return external;
}

// (handle): the next backward() averages the gradients across ranks as it goes.
Napi::Value distGradSyncPrepare(Args& a) {
  auto* h = unwrapReducer(a.at(0));
  std::lock_guard<std::mutex> lock(groupMutex);
  Group& g = requireGroup("gradient sync");
  guarded(g, "gradient sync", [&] {
    // As DDP's forward: first checks that the previous step's reduction finished (a parameter left without a
    // gradient fails here, by name of the problem), and after the first step re-buckets once in the order
    // backward produced the gradients (a broadcast from rank 0, so that every rank buckets alike).
    h->reducer->rebuild_buckets();
    h->reducer->prepare_for_backward({});
  });
  return a.undefined();
}

// (handle, cause): a backward that failed while the sync ran marks the group unusable, as other collectives do;
// returns the message naming the rank.
Napi::Value distGradSyncFailed(Args& a) {
  std::lock_guard<std::mutex> lock(groupMutex);
  if (!group) return Napi::String::New(a.env, a.str(1));
  if (group->broken.empty()) group->broken = describeFailure(*group, "gradient all-reduce (overlapped with backward)", a.str(1));
  return Napi::String::New(a.env, group->broken);
}

Napi::Value distGradSyncClose(Args& a) {
  if (!a.at(0).IsExternal() || !a.at(0).As<Napi::External<ReducerHolder>>().CheckTypeTag(&kReducerTag))
    throw std::invalid_argument("argument 0 is not a gradient-sync handle");
  a.at(0).As<Napi::External<ReducerHolder>>().Data()->reducer.reset();
  return a.undefined();
}

}  // namespace

void registerDistributed(Napi::Env env, Napi::Object exports) {
  def(env, exports, "distInit", distInit);
  def(env, exports, "exitWithParent", exitWithParent);
  def(env, exports, "distDestroy", distDestroy);
  def(env, exports, "distInfo", distInfo);
  def(env, exports, "distBackends", distBackends);
  def(env, exports, "distAllReduce", distAllReduce);
  def(env, exports, "distAllReduceStart", distAllReduceStart);
  def(env, exports, "distAllReduceWait", distAllReduceWait);
  def(env, exports, "distBroadcast", distBroadcast);
  def(env, exports, "distAllReduceWithGrad", distAllReduceWithGrad);
  def(env, exports, "distAllGather", distAllGather);
  def(env, exports, "distBarrier", distBarrier);
  def(env, exports, "distGradSyncCreate", distGradSyncCreate);
  def(env, exports, "distGradSyncPrepare", distGradSyncPrepare);
  def(env, exports, "distGradSyncFailed", distGradSyncFailed);
  def(env, exports, "distGradSyncClose", distGradSyncClose);
}

}  // namespace avid
