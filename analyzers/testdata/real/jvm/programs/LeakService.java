// LeakService: a small HTTP service on the JDK alone (com.sun.net.httpserver,
// java.lang.management, com.sun.management) whose memory behaviour is chosen
// by --mode, so that a recording of it is labelled by construction.
//
//   leak             every business request keeps --keep-bytes (4096) forever in a
//                    static list, added in remember(): a leak per request.
//   cache-unbounded  GET /lookup?key=K caches --entry-bytes (2048) per new key in a
//                    HashMap that never evicts: a leak per distinct key when keys are
//                    unique, a plateau when the key space is bounded.
//   lru              the same lookup, cached in an access-ordered LinkedHashMap whose
//                    removeEldestEntry keeps at most --lru-max-bytes (20 MiB) of
//                    --lru-entry-bytes entries: fills, then evicts (no leak).
//   steady           allocates per request and keeps nothing.
//
// Every business request also allocates --garbage-bytes (10 KiB) of short-lived
// data, as a real handler decoding and encoding does, so the heap saw-tooths
// under the collector in every mode.
//
// Endpoints: any path but the ones below is a business request (/work, /lookup);
// /metrics (Prometheus text format 0.0.4), /healthz.
//
// Usage: java -XX:+UseG1GC -Xms32m -Xmx256m -cp DIR LeakService --mode leak [--port 0]
//        [--threads 4] [--keep-bytes 4096] [--entry-bytes 2048] [--lru-max-bytes 20971520]
//        [--lru-entry-bytes 8192] [--garbage-bytes 10240]
// With --port 0 the kernel picks a port; the service prints
// "listening on 127.0.0.1:PORT" once it accepts connections.

import com.sun.management.GarbageCollectorMXBean;
import com.sun.management.GcInfo;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

public final class LeakService {
  // Flags, with their defaults.
  static String mode = "steady";
  static int port = 0;
  static int threads = 4;
  static int keepBytes = 4096;
  static int entryBytes = 2048;
  static long lruMaxBytes = 20L << 20;
  static int lruEntryBytes = 8192;
  static int garbageBytes = 10240;

  static final AtomicLong requests = new AtomicLong();

  // leak: what every request keeps. Never cleared; that is the leak.
  static final List<byte[]> kept = new ArrayList<>();

  // cache-unbounded: one entry per distinct key, never evicted.
  static final Map<String, byte[]> unboundedCache = new HashMap<>();

  // lru: bounded by bytes; the eldest (least recently used) entry goes when full.
  static LinkedHashMap<String, byte[]> lruCache;
  // Distinct keys ever inserted in a cache (the unit a cache leak grows with).
  // In lru mode this goes on growing while the cache holds a fixed number.
  static long keysInserted = 0;

  public static void main(String[] args) throws IOException {
    parseFlags(args);
    final int lruEntries = (int) Math.max(1, lruMaxBytes / lruEntryBytes);
    lruCache =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, byte[]> eldest) {
            return size() > lruEntries;
          }
        };

    // The JDK server writes the head and the body of an answer separately; with
    // Nagle's algorithm on, the body waits for the client's delayed ACK (40 ms on
    // Linux) on every keep-alive request. Read once, when the server class loads.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    // Backlog 128: the load generator opens a handful of keep-alive connections.
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 128);
    server.createContext("/metrics", LeakService::serveMetrics);
    server.createContext("/healthz", ex -> respond(ex, 200, "ok\n"));
    server.createContext("/", LeakService::serveBusiness);
    // A small fixed pool, as a real service sizes its workers.
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    server.setExecutor(pool);
    server.start();
    System.out.println(
        "listening on 127.0.0.1:" + server.getAddress().getPort() + " mode=" + mode);
    System.out.flush();
  }

  static void parseFlags(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length) usage("flag " + flag + " needs a value");
      String value = args[++i];
      try {
        switch (flag) {
          case "--mode" -> mode = value;
          case "--port" -> port = Integer.parseInt(value);
          case "--threads" -> threads = Integer.parseInt(value);
          case "--keep-bytes" -> keepBytes = Integer.parseInt(value);
          case "--entry-bytes" -> entryBytes = Integer.parseInt(value);
          case "--lru-max-bytes" -> lruMaxBytes = Long.parseLong(value);
          case "--lru-entry-bytes" -> lruEntryBytes = Integer.parseInt(value);
          case "--garbage-bytes" -> garbageBytes = Integer.parseInt(value);
          default -> usage("unknown flag " + flag);
        }
      } catch (NumberFormatException e) {
        usage(flag + ": not a number: " + value);
      }
    }
    if (!Set.of("leak", "cache-unbounded", "lru", "steady").contains(mode)) {
      usage("--mode: expected leak, cache-unbounded, lru or steady, got " + mode);
    }
    if (threads < 1 || threads > 64) usage("--threads: 1 to 64");
    if (keepBytes < 0 || entryBytes < 0 || lruEntryBytes < 1 || garbageBytes < 0) {
      usage("sizes must not be negative (--lru-entry-bytes at least 1)");
    }
  }

  static void usage(String problem) {
    System.err.println("LeakService: " + problem);
    System.err.println(
        "usage: LeakService --mode leak|cache-unbounded|lru|steady [--port 0] [--threads 4]"
            + " [--keep-bytes 4096] [--entry-bytes 2048] [--lru-max-bytes 20971520]"
            + " [--lru-entry-bytes 8192] [--garbage-bytes 10240]");
    System.exit(2);
  }

  // A business request: the garbage every handler makes, then what the mode keeps.
  static void serveBusiness(HttpExchange ex) throws IOException {
    requests.incrementAndGet();
    byte[] scratch = makeGarbage(ex.getRequestURI().toString());
    long checksum = scratch.length == 0 ? 0 : scratch[scratch.length - 1];
    switch (mode) {
      case "leak" -> remember(scratch);
      case "cache-unbounded" -> checksum += lookupUnbounded(keyOf(ex.getRequestURI()));
      case "lru" -> checksum += lookupLru(keyOf(ex.getRequestURI()));
      default -> {}
    }
    respond(ex, 200, "ok " + checksum + "\n");
  }

  // Short-lived data of --garbage-bytes, filled so the JIT cannot drop it; its
  // last byte goes into the answer.
  static byte[] makeGarbage(String seed) {
    byte[] buf = new byte[garbageBytes];
    int h = seed.hashCode();
    for (int i = 0; i < buf.length; i += 64) {
      h = h * 31 + i;
      buf[i] = (byte) h;
    }
    if (buf.length > 0) buf[buf.length - 1] = (byte) (h >>> 8);
    return buf;
  }

  // leak mode: keeps --keep-bytes derived from this request, forever.
  static void remember(byte[] from) {
    byte[] copy = new byte[keepBytes];
    System.arraycopy(from, 0, copy, 0, Math.min(from.length, copy.length));
    synchronized (kept) {
      kept.add(copy);
    }
  }

  static String keyOf(URI uri) {
    String q = uri.getRawQuery();
    if (q != null) {
      for (String part : q.split("&")) {
        if (part.startsWith("key=")) return part.substring(4);
      }
    }
    return "none";
  }

  // The value a lookup would compute, of `size` bytes.
  static byte[] computeValue(String key, int size) {
    byte[] value = new byte[size];
    int h = key.hashCode();
    for (int i = 0; i < value.length; i += 64) value[i] = (byte) (h += i);
    return value;
  }

  static int lookupUnbounded(String key) {
    synchronized (unboundedCache) {
      byte[] v = unboundedCache.get(key);
      if (v == null) {
        v = computeValue(key, entryBytes);
        unboundedCache.put(key, v);
        keysInserted++;
      }
      return v.length == 0 ? 0 : v[0];
    }
  }

  static int lookupLru(String key) {
    synchronized (lruCache) {
      byte[] v = lruCache.get(key);
      if (v == null) {
        v = computeValue(key, lruEntryBytes);
        lruCache.put(key, v);
        keysInserted++;
      }
      return v[0];
    }
  }

  static void respond(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  // /metrics in the Prometheus text format, version 0.0.4.
  static void serveMetrics(HttpExchange ex) throws IOException {
    StringBuilder sb = new StringBuilder(4096);
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    MemoryUsage heap = memory.getHeapMemoryUsage();
    ThreadMXBean threadBean = ManagementFactory.getThreadMXBean();

    metric(sb, "process_resident_memory_bytes", "gauge",
        "Resident set size from /proc/self/statm.", residentBytes());
    metric(sb, "http_requests_total", "counter",
        "Business requests served (not /metrics, not /healthz).", requests.get());
    metric(sb, "jvm_heap_used_bytes", "gauge",
        "Heap used now (MemoryMXBean): live data plus garbage not yet collected.",
        heap.getUsed());
    long live = heapAfterLastGc();
    if (live >= 0) {
      // Absent until the first collection: there is no after-GC figure before it.
      metric(sb, "jvm_heap_live_bytes", "gauge",
          "Heap used right after the most recent collection (young or old), summed over heap pools.",
          live);
    }
    metric(sb, "jvm_heap_committed_bytes", "gauge", "Heap committed by the JVM.",
        heap.getCommitted());
    metric(sb, "jvm_heap_max_bytes", "gauge", "Heap limit (-Xmx).", heap.getMax());
    metric(sb, "jvm_threads", "gauge", "Live JVM threads.", threadBean.getThreadCount());

    sb.append("# HELP jvm_gc_collections_total Collections per collector.\n");
    sb.append("# TYPE jvm_gc_collections_total counter\n");
    StringBuilder pause = new StringBuilder();
    for (java.lang.management.GarbageCollectorMXBean gc :
        ManagementFactory.getGarbageCollectorMXBeans()) {
      String label = "{gc=\"" + gc.getName() + "\"}";
      sb.append("jvm_gc_collections_total").append(label).append(' ')
          .append(gc.getCollectionCount()).append('\n');
      pause.append("jvm_gc_collection_seconds_total").append(label).append(' ')
          .append(gc.getCollectionTime() / 1000.0).append('\n');
    }
    sb.append("# HELP jvm_gc_collection_seconds_total Time spent in collections per collector.\n");
    sb.append("# TYPE jvm_gc_collection_seconds_total counter\n");
    sb.append(pause);

    long keys;
    long entries;
    switch (mode) {
      case "cache-unbounded" -> {
        synchronized (unboundedCache) {
          keys = keysInserted;
          entries = unboundedCache.size();
        }
      }
      case "lru" -> {
        synchronized (lruCache) {
          keys = keysInserted;
          entries = lruCache.size();
        }
      }
      default -> {
        keys = -1;
        entries = -1;
      }
    }
    if (keys >= 0) {
      metric(sb, "keys_total", "counter", "Distinct keys ever inserted into the cache.", keys);
      metric(sb, "cache_entries", "gauge", "Entries the cache holds now.", entries);
    }
    if (mode.equals("leak")) {
      long n;
      synchronized (kept) {
        n = kept.size();
      }
      metric(sb, "kept_objects", "gauge", "Arrays kept by remember() so far.", n);
      metric(sb, "kept_payload_bytes", "gauge", "Payload bytes kept by remember() so far.",
          n * (long) keepBytes);
    }
    sb.append("# HELP leakservice_info The mode this process runs.\n");
    sb.append("# TYPE leakservice_info gauge\n");
    sb.append("leakservice_info{mode=\"").append(mode).append("\"} 1\n");

    byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    ex.sendResponseHeaders(200, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  static void metric(StringBuilder sb, String name, String type, String help, long value) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
    sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    sb.append(name).append(' ').append(value).append('\n');
  }

  // Resident pages from /proc/self/statm (second field) times the page size.
  // The page size is 4 KiB on the x86-64 and arm64 Debian kernels we run on.
  static long residentBytes() {
    try {
      String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
      return Long.parseLong(f[1]) * 4096L;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  // The heap as the most recent collection left it: of the collectors' last
  // GcInfo, the one that ended last (G1 has a young and an old collector), its
  // usage after GC summed over the heap pools. -1 before any collection.
  static long heapAfterLastGc() {
    Set<String> heapPools = new HashSet<>();
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) heapPools.add(p.getName());
    }
    GcInfo latest = null;
    for (java.lang.management.GarbageCollectorMXBean bean :
        ManagementFactory.getGarbageCollectorMXBeans()) {
      if (!(bean instanceof GarbageCollectorMXBean gc)) continue;
      GcInfo info = gc.getLastGcInfo();
      if (info == null) continue;
      if (latest == null || info.getEndTime() > latest.getEndTime()) latest = info;
    }
    if (latest == null) return -1;
    long sum = 0;
    for (Map.Entry<String, MemoryUsage> e : latest.getMemoryUsageAfterGc().entrySet()) {
      if (heapPools.contains(e.getKey())) sum += e.getValue().getUsed();
    }
    return sum;
  }
}
