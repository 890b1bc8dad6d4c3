/* protofuzz: the stateful protocol fuzzer (issues 14 and 21). For each server — the
 * registry (svcman), block1 (blkdevd, a scratch disk), fs (fsd), pkg (pkgd), net0 (netd) —
 * the same program plays four roles:
 * - the conductor (what init runs): a second client is served before (its capacity:
 *   files open at once, sockets, waiting lookups), then a fuzzer process runs, watched for
 *   hangs (no answered message for `patience` seconds), then a second client must be
 *   served again with the same capacity, and the kernel's object count must be back;
 * - the fuzzer: messages generated from the spec (apus/protocol_fuzz.h: known and unknown
 *   ops, short and over-long bodies, random fields and handles, reply rooms too small for
 *   the reply's handles), each followed by a well-formed probe, interleaved with stateful
 *   steps (protofuzz_steps.h: real files, sockets, buffers, names, with the scribbler
 *   rewriting the buffer during requests), and children it kills at random moments;
 * - a child: does stateful steps, then exits holding what it opened, or holds waiting
 *   requests (and keeps scribbling) until it is killed;
 * - the second client: a fresh process that must be served.
 * Every reply must carry a status the spec declares for its op; a call failing with
 * peer_closed means the server died. Each is printed as PROTOFUZZ: FINDING with the seed.
 * Usage: tests/protofuzz seed=N messages=M [only=NAME] [patience=SECONDS]. */
#include <block_client.h>
#include "protofuzz_steps.h"

#define SPAWN_GRANTS 3
static const char *self = "tests/protofuzz";
static apus_handle_t clock_endpoint; /* our timers and process watches */
static uint8_t request[4096];

/* ---- time and children */

static uint64_t now_ns(void) { return (uint64_t)apus_time_now(); }

static apus_handle_t clock_ep(void) {
  if (!clock_endpoint) clock_endpoint = (apus_handle_t)apus_endpoint_create();
  return clock_endpoint;
}

/* Waits `ms` milliseconds (key 2 of our clock endpoint). */
static void pause_ms(uint64_t ms) {
  uint64_t until = now_ns() + ms * 1000000;
  apus_endpoint_timer(clock_ep(), 2, until);
  while (now_ns() < until) wait_bits(clock_ep());
}

/* Starts this program with `args` (NUL-separated, `length` bytes with the last NUL)
 * and our registry handle (with the rights we have) as its handle 1, then `extras` as
 * its handles 2, 3. */
static int64_t spawn_self(const char *args, uint64_t length, const struct apus_handle_grant *extras, uint32_t extra_count) {
  char all[160];
  uint64_t path_len = strlen(self) + 1;
  if (path_len + length > sizeof all) return ERR(APUS_ERR_INVALID_ARGUMENT);
  memcpy(all, self, path_len);
  memcpy(all + path_len, args, length);
  struct apus_handle_info info;
  uint32_t rights = apus_handle_info(REGISTRY_HANDLE, &info) == 0 ? info.rights : APUS_RIGHT_WRITE;
  struct apus_handle_grant grants[SPAWN_GRANTS] = {{REGISTRY_HANDLE, rights}};
  for (uint32_t i = 0; i < extra_count && i + 1 < SPAWN_GRANTS; i++) grants[i + 1] = extras[i];
  return apus_process_spawn_handles((const uint8_t *)self, path_len - 1, (const uint8_t *)all, path_len + length,
                                    grants, 1 + extra_count);
}

/* "role=NAME\0seed=N\0n=M\0" into `out`; its length. */
static uint64_t role_args(char *out, uint64_t room, const char *role, const char *name, uint64_t seed, uint64_t n) {
  int a = snprintf(out, room, "%s=%s", role, name);
  int b = snprintf(out + a + 1, room - (uint64_t)a - 1, "seed=%lu", seed);
  int c = snprintf(out + a + b + 2, room - (uint64_t)(a + b) - 2, "n=%lu", n);
  return (uint64_t)(a + b + c + 3);
}

/* Waits for `process` to end, at most `ms` milliseconds, or for ever while *progress
 * keeps moving (checked each second; `ms` is then how long it may stand still).
 * Returns its end_status, or -1 when it was killed for standing still. */
static int64_t wait_or_kill(int64_t process, uint64_t ms, volatile uint64_t *progress) {
  apus_process_watch((apus_handle_t)process, clock_ep(), 0);
  uint64_t last = progress ? *progress : 0, still_since = now_ns(), bits = 0;
  int hung = 0;
  for (;;) {
    uint64_t deadline = progress ? now_ns() + 1000000000ull : still_since + ms * 1000000;
    apus_endpoint_timer(clock_ep(), 1, deadline);
    bits = wait_bits(clock_ep());
    if (bits & 1) break;
    if (progress && *progress != last) { last = *progress; still_since = now_ns(); }
    if (now_ns() >= still_since + ms * 1000000) { hung = 1; break; }
  }
  apus_endpoint_timer(clock_ep(), 1, 0);
  if (hung) {
    apus_process_kill((apus_handle_t)process);
    while (!(bits & 1)) bits = wait_bits(clock_ep());
    end_status(process);
    return -1;
  }
  return end_status(process);
}

/* ---- sessions and probes */

static const char *server_name(const struct apus_fuzz_protocol *protocol) {
  if (strcmp(protocol->name, "block") == 0) return "block1"; /* the scratch disk: block0 is fsd's */
  if (strcmp(protocol->name, "net") == 0) return "net0";
  if (strcmp(protocol->name, "registry") == 0) return NULL;
  return protocol->name;
}

/* 0, or why not (a lookup-only registry may refuse block names: then block is skipped). */
static int64_t open_session(struct session *s, const struct apus_fuzz_protocol *protocol) {
  memset(s, 0, sizeof *s);
  s->protocol = protocol;
  s->next_id = 1;
  const char *name = server_name(protocol);
  if (!name) { s->server = REGISTRY_HANDLE; return 0; }
  return registry_lookup(REGISTRY_HANDLE, name, 0, &s->server);
}

/* A name the registry must always find: the first of the servers that is there. */
static const char *probe_name;
static void choose_probe_name(void) {
  static const char *const names[] = {"fs", "net0", "pkg"};
  for (int i = 0; i < 3 && !probe_name; i++) {
    apus_handle_t found;
    if (registry_lookup(REGISTRY_HANDLE, names[i], 0, &found) == 0) { apus_handle_close(found); probe_name = names[i]; }
  }
}

/* A request that must be served: ok, after attaching a fresh buffer if a fuzzed
 * attach replaced ours. */
static int64_t probe(struct session *s) {
  const char *name = s->protocol->name;
  for (int attempt = 0; attempt < 2; attempt++) {
    int64_t status;
    if (strcmp(name, "registry") == 0) {
      if (!probe_name) return 0;
      struct apus_registry_lookup_request q = {.header = {.op = APUS_REGISTRY_OP_LOOKUP}, .name_len = (uint32_t)strlen(probe_name)};
      memcpy(q.name, probe_name, q.name_len);
      return call_plain(s, &q, sizeof q, NULL, 0, NULL, 0);
    }
    if (strcmp(name, "block") == 0 || strcmp(name, "net") == 0) {
      struct apus_block_info_request q = {.header = {.op = name[0] == 'b' ? APUS_BLOCK_OP_INFO : APUS_NET_OP_INFO}};
      return call_plain(s, &q, sizeof q, NULL, 0, NULL, 0);
    }
    if (!s->buffer) { status = attach(s, 1); if (status != 0) return status; }
    if (strcmp(name, "fs") == 0) {
      memcpy(s->buffer, "/", 1);
      struct apus_fs_stat_request q = {.header = {.op = APUS_FS_OP_STAT}, .path_offset = 0, .path_len = 1};
      status = call_plain(s, &q, sizeof q, NULL, 0, NULL, 0);
    } else {
      struct apus_pkg_list_request q = {.header = {.op = APUS_PKG_OP_LIST}, .buffer_offset = 0, .buffer_len = 256};
      status = call_plain(s, &q, sizeof q, NULL, 0, NULL, 0);
    }
    if (status == 0 || s->dead) return status;
    if (attempt == 0 && attach(s, 1) != 0) return status;
  }
  return -1;
}

/* ---- malformed messages (issue 14's generator) */

/* A shm handle to send (moved), sometimes with fewer rights. */
static uint32_t fresh_shm(void) {
  int64_t shm = apus_shm_create(4096 * (1 + pick(4)));
  if (apus_is_error(shm)) return 0;
  if (pick(3) == 0) {
    int64_t weaker = apus_handle_duplicate((apus_handle_t)shm, APUS_RIGHT_READ | APUS_RIGHT_TRANSFER);
    apus_handle_close((apus_handle_t)shm);
    return (uint32_t)weaker;
  }
  return (uint32_t)shm;
}

static void malformed_step(struct session *s) {
  const struct apus_fuzz_protocol *protocol = s->protocol;
  int known = pick(5) != 0;
  const struct apus_fuzz_op *op = &protocol->ops[pick(protocol->op_count)];
  uint32_t code = known ? op->code : (uint32_t)(pick(2) ? 100 + pick(100) : rnd());
  uint64_t size = known ? op->request_size : sizeof(struct apus_msg_header) + 8 * pick(8);
  uint64_t length = size;
  switch (pick(6)) {
  case 0: length = pick(size); break;                                 /* short */
  case 1: length = size + 1 + pick(sizeof request - size - 1); break; /* over-long */
  default: break;
  }
  if (known && op->waits && length >= size) length = pick(size); /* never a request that may wait */
  /* Fields: mostly small numbers and zeros (offsets, counts, flags that could be right),
   * sometimes anything. */
  for (uint64_t i = 0; i < sizeof request; i += 8) {
    uint64_t value = pick(3) == 0 ? rnd() : pick(3) == 0 ? 0 : pick(4096);
    memcpy(request + i, &value, 8);
  }
  struct apus_msg_header header = {.op = code, .status = (uint32_t)(pick(4) == 0 ? rnd() : 0)};
  memcpy(request, &header, sizeof header);
  uint32_t handles[4];
  uint64_t count = 0, choice = pick(6);
  if (choice == 1) {
    count = 1 + pick(4);
    for (uint64_t i = 0; i < count; i++) handles[i] = i == 0 ? fresh_shm() : (uint32_t)rnd();
  } else if (choice == 0 || (known && strcmp(op->name, "attach_buffer") == 0 && choice < 4)) {
    handles[count++] = fresh_shm();
  }
  /* A reply room with no space for handles, and now and then too small for the reply. */
  uint64_t handle_cap = pick(4) == 0 ? 0 : 4, reply_cap = pick(10) ? 256 : pick(24);
  if (handle_cap == 0 && strcmp(protocol->name, "registry") == 0) counts.lookups++;
  counts.malformed++;
  call_server(s, request, length, handles, count, NULL, 0, reply_cap, handle_cap);
}

/* ---- the child role */

/* A child outlives no fuzzer: it gets the read end of an endpoint only the fuzzer can
 * write to, and a thread of its own ends it when no writer is left (the fuzzer died, or
 * the conductor killed it for hanging). */
static apus_handle_t lifeline_endpoint;
static apus_handle_t lifeline(void) {
  if (!lifeline_endpoint) lifeline_endpoint = (apus_handle_t)apus_endpoint_create();
  return lifeline_endpoint;
}

/* The page our children count their findings on (killed children cannot say them in
 * an exit code): created and mapped on first use. */
static apus_handle_t children_findings_page;
static volatile uint64_t *children_findings;
static apus_handle_t children_page(void) {
  if (!children_findings_page) {
    int64_t page = apus_shm_create(4096);
    int64_t mapped = apus_is_error(page) ? page : apus_shm_map((apus_handle_t)page, 0, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE);
    if (apus_is_error(mapped)) return 0;
    children_findings_page = (apus_handle_t)page;
    children_findings = (volatile uint64_t *)(uintptr_t)mapped;
  }
  return children_findings_page;
}

static void lifeline_watch(uint64_t unused) {
  (void)unused;
  uint8_t byte;
  struct apus_ipc_recv_info info;
  while (!apus_is_error(apus_ipc_recv(2, &byte, 1, NULL, 0, &info))) {}
  apus_process_exit(0);
}

static struct session *held_session;

/* One request that waits or keeps the server busy, on what the child holds. */
static void hold_request(struct session *s, uint64_t thread) {
  const char *name = s->protocol->name;
  if (strcmp(name, "registry") == 0) {
    struct apus_registry_lookup_request q = {.header = {.op = APUS_REGISTRY_OP_LOOKUP}, .name_len = 9,
                                             .flags = APUS_REGISTRY_LOOKUP_FLAGS_WAIT};
    memcpy(q.name, "pfz-never", 9);
    call_server(s, &q, sizeof q, NULL, 0, NULL, 0, 256, thread % 2); /* some with no room for the handle */
  } else if (strcmp(name, "net") == 0) {
    if (thread % 2 == 0 && model.held_count) {
      struct apus_net_recv_from_request q = {.header = {.op = APUS_NET_OP_RECV_FROM},
                                             .socket = (uint32_t)model.held[thread % model.held_count],
                                             .capacity = 512}; /* no timeout: waits until killed */
      call_plain(s, &q, sizeof q, NULL, 0, NULL, 0);
    } else {
      struct apus_net_ping_request q = {.header = {.op = APUS_NET_OP_PING}, .address = thread % 4 ? 0x0a000202 : 0x0a000263,
                                        .size = 56, .timeout_ms = 0}; /* 0: a second */
      call_plain(s, &q, sizeof q, NULL, 0, NULL, 0);
    }
  } else if (strcmp(name, "block") == 0) {
    struct apus_block_read_request q = {.header = {.op = APUS_BLOCK_OP_READ}, .lba = pick(model.block_count + 1),
                                        .count = (uint32_t)(s->size / 512), .flags = APUS_BLOCK_REQUEST_FLAGS_BARRIER};
    call_plain(s, &q, sizeof q, NULL, 0, NULL, 0);
  } else if (strcmp(name, "fs") == 0) {
    struct apus_fs_readdir_request q = {.header = {.op = APUS_FS_OP_READDIR}, .buffer_len = (uint32_t)s->size};
    for (uint32_t i = 0; i < model.held_count; i++)
      if (model.held_dir[i]) q.file = model.held[i];
    if (!q.file && model.held_count) {
      q.header.op = APUS_FS_OP_READ;
      q.file = model.held[0];
    }
    call_plain(s, &q, sizeof q, NULL, 0, NULL, 0);
  } else {
    struct apus_pkg_list_request q = {.header = {.op = APUS_PKG_OP_LIST}, .buffer_len = (uint32_t)s->size};
    call_plain(s, &q, sizeof q, NULL, 0, NULL, 0);
  }
}

static void hold_loop(uint64_t thread) {
  for (;;) {
    hold_request(held_session, thread);
    if (held_session->dead) apus_thread_exit(0);
  }
}

static int child_role(const struct apus_fuzz_protocol *protocol) {
  static struct session s;
  if (apus_is_error(start_thread(lifeline_watch, 0))) return 0;
  int64_t page = apus_shm_map(3, 0, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE);
  if (!apus_is_error(page)) findings_elsewhere = (volatile uint64_t *)(uintptr_t)page;
  if (open_session(&s, protocol) != 0) return 0;
  if (protocol == protocol_named("fs")) fs_setup(&s);
  step_fn step = step_for(protocol);
  for (uint64_t n = 5 + pick(40); n > 0 && !s.dead; n--) step(&s);
  if (protocol == protocol_named("fs") || protocol == protocol_named("net")) /* something to hold */
    for (int n = 0; n < 4 && !s.dead; n++) step(&s);
  if (s.dead || pick(3) == 0) return counts.findings != 0; /* exits holding what it opened */
  if (!s.buffer && protocol != protocol_named("registry")) attach(&s, 1);
  held_session = &s;
  for (uint64_t thread = 1, threads = pick(12); thread <= threads; thread++) start_thread(hold_loop, thread);
  if (pick(2)) scribble_start(s.buffer, s.size); /* never stopped: it dies scribbling */
  hold_loop(0);
  return 0;
}

/* ---- the fuzzer role */

static int64_t run_child(const struct apus_fuzz_protocol *protocol) {
  char args[96];
  uint64_t length = role_args(args, sizeof args, "child", protocol->name, rnd(), 0);
  /* Its handle 2: the lifeline (read only); 3: the page where it counts its findings. */
  struct apus_handle_grant extras[2] = {{lifeline(), APUS_RIGHT_READ},
                                        {children_page(), APUS_RIGHT_READ | APUS_RIGHT_WRITE | APUS_RIGHT_MAP}};
  int64_t child = spawn_self(args, length, extras, 2);
  if (apus_is_error(child)) return child;
  counts.children++;
  /* A random moment: at once, or within the first 150 ms. */
  uint64_t delay = pick(4) == 0 ? 0 : 1 + pick(150);
  apus_process_watch((apus_handle_t)child, clock_ep(), 0);
  apus_endpoint_timer(clock_ep(), 1, now_ns() + delay * 1000000);
  uint64_t bits = 0, until = now_ns() + delay * 1000000;
  while (!(bits & 1) && now_ns() < until) bits |= wait_bits(clock_ep());
  apus_endpoint_timer(clock_ep(), 1, 0);
  if (!(bits & 1)) {
    if (apus_process_kill((apus_handle_t)child) == 0) counts.killed++;
    else counts.exited++;
    while (!(bits & 1)) bits |= wait_bits(clock_ep());
    end_status(child);
    return 0;
  }
  counts.exited++;
  int64_t status = end_status(child);
  (void)status; /* its findings are on the page */
  return 0;
}

static int fuzz_role(const struct apus_fuzz_protocol *protocol, uint64_t messages) {
  static struct session s;
  int64_t opened = open_session(&s, protocol);
  if (opened != 0) {
    printf("PROTOFUZZ: %s: cannot reach the server (%ld)\n", protocol->name, opened);
    return 1;
  }
  choose_probe_name();
  if (protocol == protocol_named("fs")) fs_setup(&s);
  step_fn step = step_for(protocol);
  uint64_t child_every = messages / 16 > 10 ? messages / 16 : 10;
  for (uint64_t n = 0; n < messages && !s.dead; n++) {
    if (n % child_every == child_every / 2) run_child(protocol);
    if (pick(10) >= 4) {
      counts.stateful++;
      step(&s);
      continue;
    }
    malformed_step(&s);
    if (s.dead) break;
    int64_t alive = probe(&s);
    if (alive != 0 && !s.dead) {
      counts.findings++;
      printf("PROTOFUZZ: FINDING seed=%lu %s no longer serves a well-formed request after message #%lu (status %ld)\n",
             seed_used, protocol->name, counts.messages, alive);
      break;
    }
  }
  /* What we hold goes back the polite way; the children's went when they died. */
  for (uint32_t i = 0; i < model.held_count && !s.dead; i++) {
    struct apus_fs_close_request fs_close = {.header = {.op = APUS_FS_OP_CLOSE}, .file = model.held[i]};
    struct apus_net_close_request net_close = {.header = {.op = APUS_NET_OP_CLOSE}, .socket = (uint32_t)model.held[i]};
    if (protocol == protocol_named("fs")) call_plain(&s, &fs_close, sizeof fs_close, NULL, 0, NULL, 0);
    if (protocol == protocol_named("net")) call_plain(&s, &net_close, sizeof net_close, NULL, 0, NULL, 0);
  }
  if (children_findings) counts.findings += *children_findings;
  printf("PROTOFUZZ: %s: %lu messages (%lu malformed, %lu stateful), %lu files opened, %lu sockets bound, "
         "%lu buffers attached, %lu calls without room for reply handles, %lu children (%lu killed, %lu exited), "
         "%lu buffer rewrites, %lu findings\n",
         protocol->name, counts.messages, counts.malformed, counts.stateful, counts.files, counts.sockets, counts.buffers,
         counts.lookups, counts.children, counts.killed, counts.exited, counts.rewrites, counts.findings);
  return counts.findings != 0;
}

/* ---- the second client: a fresh process that must be served. Its exit code is its
 * capacity (files open at once, sockets bound, lookups waiting, up to CAPACITY_MAX; 1
 * for block and pkg), or SECOND_FAILED. */

#define CAPACITY_MAX 200
#define SECOND_FAILED 250
static volatile int64_t waiter_status[24];

static volatile int waiter_entered[24];

static void waiter(uint64_t index) {
  apus_handle_t found;
  waiter_entered[index] = 1;
  waiter_status[index] = registry_lookup(REGISTRY_HANDLE, "pfz-absent", APUS_REGISTRY_LOOKUP_FLAGS_WAIT, &found);
}

/* The second client's verdict when a step was refused: which, and what it got. */
static int refused(const char *what, int64_t status) {
  printf("PROTOFUZZ: second client: %s answered %ld\n", what, status);
  return SECOND_FAILED;
}

static int second_role(const struct apus_fuzz_protocol *protocol) {
  static struct session s;
  const char *name = protocol->name;
  int64_t status = open_session(&s, protocol);
  if (status != 0) return refused("the lookup of its server", status);
  if (strcmp(name, "registry") == 0) {
    choose_probe_name();
    if ((status = probe(&s)) != 0) return refused("a lookup", status);
    /* Lookups that wait: how many svcman takes from us (busy past that). One at a
     * time: a waiter is started, and once it is inside its call a plain lookup of
     * ours follows it through svcman (one thread, in order), so when that returns,
     * the waiter was either refused (answered) or is waiting. Counting many at once
     * after a pause miscounted under a loaded host. */
    int capacity = 0;
    for (uint64_t i = 0; i < 24; i++) {
      waiter_status[i] = -1000;
      waiter_entered[i] = 0;
      if (apus_is_error(start_thread(waiter, i))) return refused("a thread", -1);
      while (!waiter_entered[i]) apus_yield();
      pause_ms(20);  /* from the flag into the kernel */
      if ((status = probe(&s)) != 0) return refused("a lookup", status);
      pause_ms(20);  /* a refused waiter stores its answer */
      if (waiter_status[i] != -1000) break;
      capacity++;
    }
    printf("PROTOFUZZ: second client: registry served, %d lookups waiting\n", capacity);
    return capacity ? capacity : refused("every waiting lookup", waiter_status[0]);
  }
  if ((status = attach(&s, 1)) != 0) return refused("attach_buffer", status);
  if (strcmp(name, "fs") == 0) {
    static const char text[] = "second client\n";
    struct apus_fs_open_request open = {.header = {.op = APUS_FS_OP_OPEN}, .path_len = 11,
                                        .flags = APUS_FS_OPEN_FLAGS_READ | APUS_FS_OPEN_FLAGS_WRITE |
                                                 APUS_FS_OPEN_FLAGS_CREATE | APUS_FS_OPEN_FLAGS_TRUNCATE, .mode = 0644};
    struct apus_fs_open_reply opened;
    memcpy(s.buffer, "/pfz-second", 11);
    if ((status = call_plain(&s, &open, sizeof open, NULL, 0, &opened, sizeof opened)) != 0) return refused("open", status);
    memcpy(s.buffer + 4096, text, sizeof text - 1);
    struct apus_fs_write_request write = {.header = {.op = APUS_FS_OP_WRITE}, .file = opened.file,
                                          .length = sizeof text - 1, .buffer_offset = 4096};
    struct apus_fs_read_request read = {.header = {.op = APUS_FS_OP_READ}, .file = opened.file,
                                        .length = sizeof text - 1, .buffer_offset = 8192};
    struct apus_fs_read_reply got;
    if ((status = call_plain(&s, &write, sizeof write, NULL, 0, NULL, 0)) != 0) return refused("write", status);
    if ((status = call_plain(&s, &read, sizeof read, NULL, 0, &got, sizeof got)) != 0) return refused("read", status);
    if (got.count != sizeof text - 1 || memcmp(s.buffer + 8192, text, sizeof text - 1) != 0)
      return refused("read (other bytes than written)", got.count);
    /* Files open at once: the same file again and again, until refused. */
    uint64_t files[CAPACITY_MAX];
    int capacity = 0;
    open.flags = APUS_FS_OPEN_FLAGS_READ;
    while (capacity < CAPACITY_MAX && call_plain(&s, &open, sizeof open, NULL, 0, &opened, sizeof opened) == 0)
      files[capacity++] = opened.file;
    for (int i = 0; i < capacity; i++) {
      struct apus_fs_close_request close = {.header = {.op = APUS_FS_OP_CLOSE}, .file = files[i]};
      call_plain(&s, &close, sizeof close, NULL, 0, NULL, 0);
    }
    printf("PROTOFUZZ: second client: fs served, %d files open at once\n", capacity + 1);
    return capacity ? capacity + 1 : refused("a second open", -1);
  }
  if (strcmp(name, "net") == 0) {
    struct apus_net_bind_request bind = {.header = {.op = APUS_NET_OP_BIND}};
    struct apus_net_bind_reply bound;
    uint32_t sockets[CAPACITY_MAX];
    int capacity = 0;
    if ((status = probe(&s)) != 0) return refused("info", status);
    while (capacity < CAPACITY_MAX && call_plain(&s, &bind, sizeof bind, NULL, 0, &bound, sizeof bound) == 0)
      sockets[capacity++] = bound.socket;
    for (int i = 0; i < capacity; i++) {
      struct apus_net_close_request close = {.header = {.op = APUS_NET_OP_CLOSE}, .socket = sockets[i]};
      call_plain(&s, &close, sizeof close, NULL, 0, NULL, 0);
    }
    printf("PROTOFUZZ: second client: net served, %d sockets bound at once\n", capacity);
    return capacity ? capacity : refused("every bind", -1);
  }
  if (strcmp(name, "block") == 0) {
    struct apus_block_read_request read = {.header = {.op = APUS_BLOCK_OP_READ}, .lba = 0, .count = 1};
    if ((status = probe(&s)) != 0) return refused("info", status);
    if ((status = call_plain(&s, &read, sizeof read, NULL, 0, NULL, 0)) != 0) return refused("read", status);
    printf("PROTOFUZZ: second client: block served\n");
    return 1;
  }
  if ((status = probe(&s)) != 0) return refused("list", status);
  printf("PROTOFUZZ: second client: %s served\n", name);
  return 1;
}

/* ---- the conductor */

static int64_t run_second(const struct apus_fuzz_protocol *protocol, uint64_t patience) {
  char args[96];
  uint64_t length = role_args(args, sizeof args, "second", protocol->name, 0, 0);
  int64_t child = spawn_self(args, length, NULL, 0);
  if (apus_is_error(child)) return child;
  int64_t status = wait_or_kill(child, patience * 1000, NULL);
  pause_ms(100); /* the servers hear of its end and free what it had */
  return status;
}

static uint64_t kernel_objects(void) {
  struct apus_system_info info;
  apus_system_info(&info);
  return info.objects;
}

static uint64_t conduct(const struct apus_fuzz_protocol *protocol, uint64_t seed, uint64_t messages, uint64_t patience) {
  struct session probe_session;
  int64_t reachable = open_session(&probe_session, protocol);
  if (reachable != 0) {
    /* Block devices may be kept from ordinary programs: a refused lookup skips block.
     * Any other server must be found (busy: the registry is out of room for us). */
    int refused = reachable == APUS_REGISTRY_STATUS_NOT_FOUND || reachable == APUS_REGISTRY_STATUS_ACCESS_DENIED;
    if (protocol == protocol_named("block") && refused) {
      printf("PROTOFUZZ: block: skipped, the lookup of block1 was refused (%ld)\n", reachable);
      return 0;
    }
    printf("PROTOFUZZ: FINDING seed=%lu %s: the lookup of %s answered %ld\n", seed, protocol->name, server_name(protocol),
           reachable);
    return 1;
  }
  if (probe_session.server != REGISTRY_HANDLE) apus_handle_close(probe_session.server);
  uint64_t findings = 0;
  int64_t before = run_second(protocol, patience);
  if (before <= 0 || before >= SECOND_FAILED) {
    printf("PROTOFUZZ: FINDING seed=%lu %s: a second client was not served before the fuzzing (%ld)\n", seed,
           protocol->name, before);
    return 1;
  }
  uint64_t objects = kernel_objects();
  /* The fuzzer, in a process of its own, beating on a page we watch. */
  int64_t page = apus_shm_create(4096);
  int64_t mapped = apus_is_error(page) ? page : apus_shm_map((apus_handle_t)page, 0, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE);
  if (apus_is_error(mapped)) return 1;
  volatile uint64_t *beat = (volatile uint64_t *)(uintptr_t)mapped;
  char args[96];
  uint64_t length = role_args(args, sizeof args, "fuzz", protocol->name, seed, messages);
  struct apus_handle_grant beat_page = {(uint32_t)page, APUS_RIGHT_READ | APUS_RIGHT_WRITE | APUS_RIGHT_MAP};
  int64_t fuzzer = spawn_self(args, length, &beat_page, 1);
  if (apus_is_error(fuzzer)) return 1;
  int64_t fuzzed = wait_or_kill(fuzzer, patience * 1000, beat);
  if (fuzzed == -1) {
    findings++;
    printf("PROTOFUZZ: FINDING seed=%lu %s: no answer for %lu s to message #%lu (op=%lu length=%lu): the server hangs\n",
           seed, protocol->name, patience, beat[0] + 1, beat[1], beat[2]);
    return findings; /* a second client would hang too */
  }
  if (fuzzed != 0) findings++;
  apus_vm_unmap((uint64_t)mapped, 4096);
  apus_handle_close((apus_handle_t)page);
  pause_ms(100);
  int64_t after = run_second(protocol, patience);
  if (after != before) {
    findings++;
    printf("PROTOFUZZ: FINDING seed=%lu %s: a second client after the fuzzing got %ld (before: %ld)%s\n", seed,
           protocol->name, after, before, after == -1 ? ": it hung" : "");
  }
  uint64_t objects_after = kernel_objects();
  if (objects_after != objects) {
    /* A killed child's ping or ARP wait may hold a reply for a second or so: let the
     * bounded waits run out before calling it a leak. */
    pause_ms(3000);
    objects_after = kernel_objects();
  }
  if (objects_after != objects) {
    findings++;
    printf("PROTOFUZZ: FINDING seed=%lu %s: %lu kernel objects before the fuzzing, %lu after its clients ended\n", seed,
           protocol->name, objects, objects_after);
  }
  if (after == before && objects_after == objects)
    printf("PROTOFUZZ: %s: a second client was served after the fuzzing (capacity %ld, as before), kernel objects back to %lu\n",
           protocol->name, after, objects_after);
  return findings;
}

int main(int argc, char **argv) {
  test_name = "PROTOFUZZ";
  uint64_t seed = 1, messages = 1000, n = 0, patience = 20;
  const char *only = NULL, *role = NULL, *role_of = NULL;
  if (argc > 0) self = argv[0];
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "seed=", 5) == 0) seed = number_after(argv[i] + 5);
    if (strncmp(argv[i], "messages=", 9) == 0) messages = number_after(argv[i] + 9);
    if (strncmp(argv[i], "patience=", 9) == 0) patience = number_after(argv[i] + 9);
    if (strncmp(argv[i], "only=", 5) == 0) only = argv[i] + 5;
    if (strncmp(argv[i], "n=", 2) == 0) n = number_after(argv[i] + 2);
    for (const char *const *r = (const char *const[]){"fuzz=", "child=", "second=", NULL}; *r; r++)
      if (strncmp(argv[i], *r, strlen(*r)) == 0) { role = *r; role_of = argv[i] + strlen(*r); }
  }
  seed_used = seed;
  state = seed * 0x9e3779b97f4a7c15ull | 1;
  if (role) {
    const struct apus_fuzz_protocol *protocol = protocol_named(role_of);
    if (!protocol) return SECOND_FAILED;
    if (role[0] == 'f') {
      struct apus_handle_info info;
      if (apus_handle_info(2, &info) == 0) {
        int64_t page = apus_shm_map(2, 0, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE);
        if (!apus_is_error(page)) heartbeat = (volatile uint64_t *)(uintptr_t)page;
      }
      return fuzz_role(protocol, n);
    }
    return role[0] == 'c' ? child_role(protocol) : second_role(protocol);
  }
  uint64_t findings = 0;
  for (int p = 0; p < APUS_FUZZ_PROTOCOL_COUNT; p++) {
    const struct apus_fuzz_protocol *protocol = &apus_fuzz_protocols[p];
    if (only && strcmp(only, protocol->name) != 0) continue;
    findings += conduct(protocol, seed, messages, patience);
  }
  printf("PROTOFUZZ: seed=%lu messages=%lu findings=%lu\n", seed, messages, findings);
  return findings != 0;
}
