// hit_ratio: hit ratio of every policy (and OPT) on every trace and capacity of the traces'
// index.tsv, next to the reference table of the traces' README, for fast tuning iterations.
//
//   hit_ratio [--traces DIR] [--trace NAME]... [--policies lru,s3fifo,tinylfu,opt] [--jobs N]
//             [--tinylfu KEY=VALUE]... [--s3fifo KEY=VALUE]... [--judge POLICY] [--timing 1]
//
// --tinylfu caffeine=1 starts from Caffeine's settings; later overrides apply on top.
//
// "ref" is the best of LRU, S3-FIFO and W-TinyLFU (theine) in the README; "margin" is the
// judged policy's hit ratio (default: the default policy) minus (ref - 2 points), negative
// where it misses that target.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "predict/belady.hpp"
#include "predict/replay.hpp"
#include "predict/simulator.hpp"
#include "predict/trace_reader.hpp"
#include "store/policies.hpp"

namespace sc = stratacache;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string dir = STRATACACHE_TRACES_DIR;
  std::vector<std::string> only;
  std::vector<std::string> policies;
  unsigned jobs = 1;
  bool timing = false;
  std::string judge{sc::store::kDefaultPolicy};
  sc::store::TinyLfuConfig tinylfu;
  sc::store::S3FifoConfig s3fifo;
};

struct Trace {
  std::string name;
  std::vector<std::uint64_t> capacities;
  std::vector<std::int64_t> keys;
  double load_seconds = 0;
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);) out.push_back(part);
  return out;
}

// Applies `--tinylfu KEY=VALUE` / `--s3fifo KEY=VALUE` overrides.
void apply(const std::map<std::string, std::function<void(double)>>& setters,
           const std::string& key, double value) {
  const auto it = setters.find(key);
  if (it == setters.end()) throw std::invalid_argument("unknown setting " + key);
  it->second(value);
}

// Window grids for the miniature, by number.
std::vector<double> grid(int n) {
  switch (n) {
    case 1:
      return {0.01, 0.05, 0.2, 0.5, 0.8};
    case 2:
      return {0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.25, 0.4, 0.6, 0.8, 0.95};
    case 3:
      return {0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9};
    default:
      return sc::store::MiniatureConfig{}.windows;
  }
}

void set_tinylfu(sc::store::TinyLfuConfig& c, const std::string& k, double v) {
  using sc::store::WindowAdaptation;
  apply({{"caffeine",
          [&](double x) {
            if (x != 0) c = sc::store::TinyLfuConfig::caffeine();
          }},
         {"initial_window", [&](double x) { c.initial_window = x; }},
         {"protected_share", [&](double x) { c.protected_share = x; }},
         {"adaptation", [&](double x) { c.adaptation = static_cast<WindowAdaptation>(x); }},
         {"sample_factor", [&](double x) { c.sample_factor = x; }},
         {"min_sample", [&](double x) { c.min_sample = static_cast<std::uint64_t>(x); }},
         {"max_transfer", [&](double x) { c.max_transfer = static_cast<std::uint32_t>(x); }},
         {"warm_threshold", [&](double x) { c.warm_threshold = static_cast<unsigned>(x); }},
         {"warmup_halvings", [&](double x) { c.warmup_halvings = static_cast<unsigned>(x); }},
         {"step", [&](double x) { c.climber.step = x; }},
         {"step_decay", [&](double x) { c.climber.step_decay = x; }},
         {"restart_threshold", [&](double x) { c.climber.restart_threshold = x; }},
         {"ghost_step", [&](double x) { c.ghost.step = x; }},
         {"ghost_share", [&](double x) { c.ghost.ghost_share = x; }},
         {"ghost_min_step", [&](double x) { c.ghost.min_step = x; }},
         {"ghost_step_up", [&](double x) { c.ghost.step_up = x; }},
         {"ghost_step_down", [&](double x) { c.ghost.step_down = x; }},
         {"max_window", [&](double x) { c.max_window = x; }},
         {"mini_entries",
          [&](double x) { c.miniature.shadow_entries = static_cast<std::uint64_t>(x); }},
         {"mini_max_rate", [&](double x) { c.miniature.max_rate = x; }},
         {"mini_decay", [&](double x) { c.miniature.decay = x; }},
         {"mini_hysteresis", [&](double x) { c.miniature.hysteresis = x; }},
         {"mini_distance", [&](double x) { c.miniature.distance_cost = x; }},
         {"mini_period", [&](double x) { c.miniature.period = x; }},
         {"mini_min_period",
          [&](double x) { c.miniature.min_period = static_cast<std::uint64_t>(x); }},
         {"mini_step", [&](double x) { c.miniature_step = x; }},
         {"mini_grid", [&](double x) { c.miniature.windows = grid(static_cast<int>(x)); }}},
        k, v);
}

void set_s3fifo(sc::store::S3FifoConfig& c, const std::string& k, double v) {
  apply({{"small_share", [&](double x) { c.small_share = x; }},
         {"ghost_factor", [&](double x) { c.ghost_factor = x; }},
         {"move_threshold", [&](double x) { c.move_threshold = static_cast<std::uint8_t>(x); }}},
        k, v);
}

Options parse_args(int argc, char** argv) {
  Options o;
  o.policies = sc::store::policy_names();
  o.policies.emplace_back(sc::predict::kOptPolicy);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument("missing value after " + a);
    const std::string v = argv[++i];
    const auto kv = [&] {
      const auto eq = v.find('=');
      if (eq == std::string::npos) throw std::invalid_argument("expected KEY=VALUE: " + v);
      return std::pair{v.substr(0, eq), std::stod(v.substr(eq + 1))};
    };
    if (a == "--traces") {
      o.dir = v;
    } else if (a == "--trace") {
      o.only.push_back(v);
    } else if (a == "--policies") {
      o.policies = split(v, ',');
    } else if (a == "--judge") {
      o.judge = v;
    } else if (a == "--timing") {
      o.timing = v != "0";
    } else if (a == "--jobs") {
      o.jobs = static_cast<unsigned>(std::stoul(v));
    } else if (a == "--tinylfu") {
      set_tinylfu(o.tinylfu, kv().first, kv().second);
    } else if (a == "--s3fifo") {
      set_s3fifo(o.s3fifo, kv().first, kv().second);
    } else {
      throw std::invalid_argument("unknown argument " + a);
    }
  }
  return o;
}

std::vector<Trace> load_index(const Options& o) {
  std::ifstream in(o.dir + "/index.tsv");
  if (!in) throw std::runtime_error("cannot read " + o.dir + "/index.tsv");
  std::vector<Trace> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto cols = split(line, '\t');
    if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), cols[0]) == o.only.end()) {
      continue;
    }
    Trace t{cols[0], {}, {}, 0};
    for (const auto& c : split(cols[2], ',')) t.capacities.push_back(std::stoull(c));
    const auto start = Clock::now();
    t.keys = sc::predict::read_trace(o.dir + "/" + cols[1]);
    t.load_seconds = seconds_since(start);
    out.push_back(std::move(t));
  }
  return out;
}

// README tables: "**name** (...)" then rows "| capacity | LRU | OPT | theine | lcs | S3-FIFO |".
std::map<std::pair<std::string, std::uint64_t>, double> load_reference(const std::string& dir) {
  std::map<std::pair<std::string, std::uint64_t>, double> ref;
  std::ifstream in(dir + "/README.md");
  std::string trace;
  const auto num = [](std::string s) {
    std::erase_if(s, [](char c) { return c == '*' || c == ',' || c == ' '; });
    return s;
  };
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("**")) trace = line.substr(2, line.find("**", 2) - 2);
    if (trace.empty() || !line.starts_with("| ")) continue;
    const auto cols = split(line, '|');
    if (cols.size() < 7) continue;
    const std::string cap = num(cols[1]);
    if (cap.empty() || cap.find_first_not_of("0123456789") != std::string::npos) continue;
    const double best =
        std::max({std::stod(num(cols[2])), std::stod(num(cols[4])), std::stod(num(cols[6]))});
    ref[{trace, std::stoull(cap)}] = best;
  }
  return ref;
}

double run(const Options& o, const Trace& t, std::uint64_t cap, const std::string& policy) {
  if (policy == "tinylfu") {
    sc::store::TinyLfuPolicy p(cap, o.tinylfu);
    return sc::predict::replay(t.keys, p, cap).hit_ratio();
  }
  if (policy == "s3fifo") {
    sc::store::S3FifoPolicy p(cap, o.s3fifo);
    return sc::predict::replay(t.keys, p, cap).hit_ratio();
  }
  return sc::predict::simulate(t.keys, policy, cap).hit_ratio();
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse_args(argc, argv);
  const auto start = Clock::now();
  const std::vector<Trace> traces = load_index(o);
  const auto ref = load_reference(o.dir);
  struct Task {
    std::size_t trace;
    std::uint64_t cap;
    std::size_t policy;
    double ratio = 0;
    double seconds = 0;
  };
  std::vector<Task> tasks;
  for (std::size_t i = 0; i < traces.size(); ++i) {
    for (const auto cap : traces[i].capacities) {
      for (std::size_t p = 0; p < o.policies.size(); ++p) tasks.push_back({i, cap, p});
    }
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> pool;
  for (unsigned j = 0; j < std::max(1U, o.jobs); ++j) {
    pool.emplace_back([&] {
      for (std::size_t k; (k = next.fetch_add(1)) < tasks.size();) {
        const auto t0 = Clock::now();
        tasks[k].ratio = run(o, traces[tasks[k].trace], tasks[k].cap, o.policies[tasks[k].policy]);
        tasks[k].seconds = seconds_since(t0);
      }
    });
  }
  for (auto& th : pool) th.join();

  const auto dflt = std::find(o.policies.begin(), o.policies.end(), o.judge) - o.policies.begin();
  std::printf("%-13s %7s", "trace", "cap");
  for (const auto& p : o.policies) std::printf(" %8s", p.c_str());
  std::printf(" %8s %8s   (judged: %s)\n", "ref", "margin", o.judge.c_str());
  double worst = 1e9, shortfall = 0;
  int misses = 0;
  for (std::size_t k = 0; k < tasks.size(); k += o.policies.size()) {
    const Task& first = tasks[k];
    std::printf("%-13s %7llu", traces[first.trace].name.c_str(),
                static_cast<unsigned long long>(first.cap));
    for (std::size_t p = 0; p < o.policies.size(); ++p) {
      std::printf(" %8.2f", 100 * tasks[k + p].ratio);
    }
    const auto it = ref.find({traces[first.trace].name, first.cap});
    if (it != ref.end() && static_cast<std::size_t>(dflt) < o.policies.size()) {
      const double margin =
          100 * tasks[k + static_cast<std::size_t>(dflt)].ratio - (it->second - 2);
      worst = std::min(worst, margin);
      if (margin < 0) {
        ++misses;
        shortfall += margin;
      }
      std::printf(" %8.2f %8.2f%s", it->second, margin, margin < 0 ? "  MISS" : "");
    }
    std::printf("\n");
  }
  for (const Task& t : tasks) {
    if (!o.timing) break;
    std::printf("# replay %s@%llu %s: %.2f s\n", traces[t.trace].name.c_str(),
                static_cast<unsigned long long>(t.cap), o.policies[t.policy].c_str(), t.seconds);
  }
  for (const auto& t : traces) {
    std::printf("# %s: %zu requests, read in %.2f s\n", t.name.c_str(), t.keys.size(),
                t.load_seconds);
  }
  std::printf("# targets missed: %d, worst margin %.2f, summed shortfall %.2f, %.1f s total\n",
              misses, worst, shortfall, seconds_since(start));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "hit_ratio: %s\n", e.what());
  return 2;
}
