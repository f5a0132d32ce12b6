// Live host memory over time, from inside the process: glibc's own count of bytes in use (heap chunks
// plus mmap-ed blocks, mallinfo2) next to the resident set. Peak RSS alone cannot tell live tensors
// from freed memory the allocator keeps; this can. Loaded with LD_PRELOAD by bench/memory_trace.sh;
// a sampling thread with raised priority (2 busy cores would starve it) writes one line per change of
// more than 64 MiB, or every 2 s:
//   seconds  rss_mib  in_use_mib  heap_mib  heap_free_mib  mmapped_mib  peak_in_use_mib  peak_rss_mib
// Only the process whose executable is named $MALLINFO_TRACE_EXE (default rlxf) traces, so shells and
// tools started under the same LD_PRELOAD leave the file alone.
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long rss_mib(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  return resident * sysconf(_SC_PAGESIZE) >> 20;
}

static void *sample(void *path) {
  setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), -15);
  FILE *out = fopen((const char *)path, "w");
  if (!out) return NULL;
  fprintf(out, "seconds\trss_mib\tin_use_mib\theap_mib\theap_free_mib\tmmapped_mib\tpeak_in_use_mib\tpeak_rss_mib\n");
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long last_in_use = -1000, peak_in_use = 0, peak_rss = 0;
  double last_line = -10;
  for (;;) {
    struct mallinfo2 m = mallinfo2();
    clock_gettime(CLOCK_MONOTONIC, &now);
    double t = (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
    long in_use = (long)((m.uordblks + m.hblkhd) >> 20), rss = rss_mib();
    if (in_use > peak_in_use) peak_in_use = in_use;
    if (rss > peak_rss) peak_rss = rss;
    if (labs(in_use - last_in_use) > 64 || t - last_line > 2) {
      fprintf(out, "%.2f\t%ld\t%ld\t%zu\t%zu\t%zu\t%ld\t%ld\n", t, rss, in_use, m.arena >> 20, m.fordblks >> 20,
              m.hblkhd >> 20, peak_in_use, peak_rss);
      fflush(out);
      last_in_use = in_use;
      last_line = t;
    }
    usleep(50000);
  }
  return NULL;
}

__attribute__((constructor)) static void start_sampling(void) {
  const char *path = getenv("MALLINFO_TRACE_OUT");
  const char *wanted = getenv("MALLINFO_TRACE_EXE");
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (!path || n <= 0) return;
  exe[n] = '\0';
  const char *base = strrchr(exe, '/');
  if (strcmp(base ? base + 1 : exe, wanted ? wanted : "rlxf") != 0) return;
  pthread_t thread;
  if (pthread_create(&thread, NULL, sample, (void *)path) == 0) pthread_detach(thread);
}
