/* The protocol fuzzer's stateful steps (protofuzz.c): well-formed-looking requests that
 * reach the paths malformed messages never do. A model of what this process holds —
 * open files, bound sockets, the ids it closed, the buffer it attached, names it added —
 * lets each step reuse real ids and stale ones, with sizes and offsets from the edges
 * (0, the buffer's end, 2^32, 2^63, near 2^64, sparse gigabytes). Writes stay under
 * /pfz on the system disk and go to the scratch disk (block1) for block. Read, write,
 * readdir and path steps sometimes run with the scribbler rewriting the buffer. */
#ifndef PROTOFUZZ_STEPS_H
#define PROTOFUZZ_STEPS_H
#include <apus/block.h>
#include <apus/fs.h>
#include <apus/net.h>
#include <apus/pkg.h>
#include <apus/registry.h>
#include "protofuzz.h"

#define HELD_MAX 24
#define STALE_MAX 16
static struct {
  uint64_t held[HELD_MAX];
  int held_dir[HELD_MAX];
  uint32_t held_count;
  uint64_t stale[STALE_MAX];
  uint32_t stale_count;
  uint64_t cookie;                /* the last readdir's next_cookie */
  uint64_t block_count;           /* block: the device's size */
  apus_handle_t names[4];         /* registry: endpoints of the names we added */
} model;

static void forget(uint32_t index) {
  model.stale[model.stale_count++ % STALE_MAX] = model.held[index];
  model.held[index] = model.held[--model.held_count];
  model.held_dir[index] = model.held_dir[model.held_count];
}

static void remember(uint64_t id, int dir) {
  if (model.held_count == HELD_MAX) return;
  model.held_dir[model.held_count] = dir;
  model.held[model.held_count++] = id;
}

/* An id to use: one we hold, one we closed, or made up. */
static uint64_t some_id(void) {
  uint64_t choice = pick(10);
  if (choice < 5 && model.held_count) return model.held[pick(model.held_count)];
  if (choice < 7 && model.stale_count) return model.stale[pick(model.stale_count < STALE_MAX ? model.stale_count : STALE_MAX)];
  return choice == 9 ? rnd() : pick(300);
}

/* Sizes and file offsets from the edges: most small, some past any file or near 2^64. */
static uint64_t edge_number(void) {
  switch (pick(10)) {
  case 0: return UINT64_MAX - pick(8192);
  case 1: return (1ull << 63) - 4096 + pick(8192);
  case 2: return (1ull << 32) - 2048 + pick(4096);
  case 3: return ((uint64_t)(1 + pick(20)) << 30) + pick(4096); /* sparse gigabytes */
  case 4: return rnd();
  case 5: return 0;
  default: return pick(70000);
  }
}

/* Where in the buffer `length` bytes go: inside it mostly, sometimes past its end. */
static uint64_t buffer_spot(struct session *s, uint64_t length) {
  if (pick(6) == 0) return pick(3) ? s->size - pick(64) : edge_number();
  return length >= s->size ? 0 : pick(s->size - length) & ~7ull;
}

/* A length for data: fits the buffer mostly, sometimes 0 or huge. */
static uint32_t data_length(struct session *s) {
  switch (pick(8)) {
  case 0: return 0;
  case 1: return (uint32_t)rnd();
  case 2: return (uint32_t)s->size;
  default: return (uint32_t)pick(s->size < 9000 ? s->size : 9000);
  }
}

static uint32_t attach_code(const struct apus_fuzz_protocol *protocol) {
  if (strcmp(protocol->name, "block") == 0) return APUS_BLOCK_OP_ATTACH_BUFFER;
  if (strcmp(protocol->name, "net") == 0) return APUS_NET_OP_ATTACH_BUFFER;
  if (strcmp(protocol->name, "pkg") == 0) return APUS_PKG_OP_ATTACH_BUFFER;
  return APUS_FS_OP_ATTACH_BUFFER;
}

/* Attaches a fresh buffer (its declared size now and then wrong, its handle now and
 * then without write); on ok it replaces ours. `honest`: exactly right, for probes. */
static int64_t attach(struct session *s, int honest) {
  uint64_t size = 4096 * (honest ? 4 : 1 + pick(16));
  uint8_t *data;
  uint32_t handle = new_buffer(size, &data);
  if (!handle) return ERR(APUS_ERR_NO_MEMORY);
  uint64_t declared = size;
  if (!honest && pick(5) == 0) declared = pick(2) ? edge_number() : size + 4096 * (1 + pick(2));
  if (!honest && pick(10) == 0) {
    int64_t weaker = apus_handle_duplicate(handle, APUS_RIGHT_READ | APUS_RIGHT_MAP | APUS_RIGHT_TRANSFER);
    apus_handle_close(handle);
    handle = apus_is_error(weaker) ? 0 : (uint32_t)weaker;
  }
  struct apus_fs_attach_buffer_request request = {.header = {.op = attach_code(s->protocol)}, .buffer_size = declared};
  int64_t status = call_plain(s, &request, sizeof request, &handle, handle ? 1 : 0, NULL, 0);
  counts.buffers++;
  if (status != 0) {
    apus_vm_unmap((uint64_t)(uintptr_t)data, size);
    return status;
  }
  if (s->buffer) apus_vm_unmap((uint64_t)(uintptr_t)s->buffer, s->size);
  s->buffer = data;
  s->size = size;
  return 0;
}

/* ---- fs */

static const char *const fs_paths[] = {
  "/pfz", "/pfz/a", "/pfz/b", "/pfz/d", "/pfz/d/c", "/pfz/a/x", "/pfz/", "//pfz//a", "/pfz/./b", "/pfz/../pfz/b",
  "/", "/bin", "/bin/sh", "/README.txt", "/docs", "/media", "/media/x", "", "/pfz/\xff\x01", "/lost+found",
};
#define FS_WRITABLE 10 /* the first ones: under /pfz */

/* Puts a path in the buffer (sometimes one of 300 bytes, sometimes with a wrong
 * length); returns the length the request says, *offset where it is. */
static uint32_t put_path(struct session *s, int writable, uint64_t *offset) {
  uint32_t count = writable ? FS_WRITABLE : sizeof fs_paths / sizeof *fs_paths;
  const char *path = fs_paths[pick(count)];
  uint32_t length = (uint32_t)strlen(path);
  *offset = pick(s->size / 2) & ~7ull;
  if (pick(12) == 0) {  /* a long last name */
    memcpy(s->buffer + *offset, "/pfz/", 5);
    length = 5 + 250 + (uint32_t)pick(60);
    memset(s->buffer + *offset + 5, 'n', length - 5);
    return length;
  }
  memcpy(s->buffer + *offset, path, length);
  switch (pick(16)) {
  case 0: return (uint32_t)rnd();
  case 1: *offset = edge_number(); return length;
  case 2: return length + (uint32_t)pick(8);
  default: return length;
  }
}

/* /pfz, with two files in it, so that opens find something to write. */
static void fs_setup(struct session *s) {
  static const char *const made[] = {"/pfz", "/pfz/a", "/pfz/b"};
  if (!s->buffer && attach(s, 1) != 0) return;
  for (int i = 0; i < 3; i++) {
    struct apus_fs_open_request q = {.header = {.op = i ? APUS_FS_OP_OPEN : APUS_FS_OP_MKDIR}, .path_len = (uint32_t)strlen(made[i]),
                                     .flags = APUS_FS_OPEN_FLAGS_READ | APUS_FS_OPEN_FLAGS_WRITE | APUS_FS_OPEN_FLAGS_CREATE,
                                     .mode = 0644};
    if (!i) q.flags = 0755; /* mkdir's mode, where open has its flags */
    struct apus_fs_open_reply opened;
    memcpy(s->buffer, made[i], q.path_len);
    uint64_t length = i ? sizeof q : sizeof(struct apus_fs_mkdir_request);
    if (call_plain(s, &q, length, NULL, 0, &opened, sizeof opened) == 0 && i) {
      remember(opened.file, 0);
      counts.files++;
    }
  }
}

static void fs_step(struct session *s) {
  if (!s->buffer && attach(s, 0) != 0) return;
  int scribble = pick(4) == 0;
  union {
    struct apus_fs_open_request open;
    struct apus_fs_read_request read;
    struct apus_fs_readdir_request readdir;
    struct apus_fs_truncate_request truncate;
    struct apus_fs_stat_request stat;
    struct apus_fs_rename_request rename;
    struct apus_fs_close_request close;
  } q;
  union {
    struct apus_fs_open_reply open;
    struct apus_fs_readdir_reply readdir;
  } a;
  memset(&q, 0, sizeof q);
  uint32_t choice = (uint32_t)pick(16);
  if (choice == 0) { attach(s, 0); return; }
  if (choice <= 3) {
    int writable = pick(3) != 0;
    q.open.header.op = APUS_FS_OP_OPEN;
    q.open.path_len = put_path(s, writable, &q.open.path_offset);
    uint32_t flags = APUS_FS_OPEN_FLAGS_READ;
    if (writable) flags |= (uint32_t)pick(64);
    else if (pick(3) == 0) flags |= APUS_FS_OPEN_FLAGS_DIRECTORY;
    q.open.flags = pick(20) ? flags : (uint32_t)rnd();
    q.open.mode = pick(2) ? 0644 : (uint32_t)rnd();
    if (!writable && (q.open.flags & ~(uint32_t)(APUS_FS_OPEN_FLAGS_READ | APUS_FS_OPEN_FLAGS_DIRECTORY))) q.open.flags = flags;
    if (model.held_count == HELD_MAX) {
      struct apus_fs_close_request close = {.header = {.op = APUS_FS_OP_CLOSE}, .file = model.held[0]};
      call_plain(s, &close, sizeof close, NULL, 0, NULL, 0);
      forget(0);
    }
    if (call_plain(s, &q.open, sizeof q.open, NULL, 0, &a.open, sizeof a.open) == 0) {
      remember(a.open.file, a.open.kind == APUS_FS_FILE_KIND_DIRECTORY);
      counts.files++;
    }
    return;
  }
  if (choice == 4) {
    q.close.header.op = APUS_FS_OP_CLOSE;
    q.close.file = some_id();
    if (call_plain(s, &q.close, sizeof q.close, NULL, 0, NULL, 0) == 0)
      for (uint32_t i = 0; i < model.held_count; i++)
        if (model.held[i] == q.close.file) { forget(i); break; }
    return;
  }
  if (choice <= 8) {  /* read or write */
    q.read.header.op = choice <= 6 ? APUS_FS_OP_READ : APUS_FS_OP_WRITE;
    q.read.file = some_id();
    q.read.offset = edge_number();
    q.read.length = data_length(s);
    q.read.buffer_offset = buffer_spot(s, q.read.length);
    int started = scribble && scribble_start(s->buffer, s->size);
    call_plain(s, &q.read, sizeof q.read, NULL, 0, NULL, 0);
    scribble_stop(started);
    return;
  }
  if (choice == 9) {
    q.truncate.header.op = APUS_FS_OP_TRUNCATE;
    q.truncate.file = some_id();
    q.truncate.size = edge_number();
    call_plain(s, &q.truncate, sizeof q.truncate, NULL, 0, NULL, 0);
    return;
  }
  if (choice == 10) {  /* readdir: an open directory mostly, from where the last one stopped */
    q.readdir.header.op = APUS_FS_OP_READDIR;
    q.readdir.file = some_id();
    for (uint32_t i = 0; i < model.held_count && pick(2); i++)
      if (model.held_dir[i]) q.readdir.file = model.held[i];
    q.readdir.cookie = pick(3) == 0 ? 0 : pick(4) == 0 ? edge_number() : model.cookie;
    q.readdir.buffer_len = pick(4) == 0 ? (uint32_t)pick(64) : data_length(s);
    q.readdir.buffer_offset = buffer_spot(s, q.readdir.buffer_len);
    int started = (scribble || pick(2)) && scribble_start(s->buffer, s->size);
    if (call_plain(s, &q.readdir, sizeof q.readdir, NULL, 0, &a.readdir, sizeof a.readdir) == 0) model.cookie = a.readdir.next_cookie;
    scribble_stop(started);
    return;
  }
  if (choice <= 13) {  /* stat, mkdir, unlink: one path */
    static const uint32_t ops[] = {APUS_FS_OP_STAT, APUS_FS_OP_MKDIR, APUS_FS_OP_UNLINK};
    q.stat.header.op = ops[choice - 11];
    q.stat.path_len = put_path(s, choice != 11, &q.stat.path_offset);
    if (choice == 12) q.stat.reserved0 = pick(2) ? 0755 : (uint32_t)rnd(); /* mkdir's mode */
    int started = scribble && scribble_start(s->buffer, s->size);
    call_plain(s, &q.stat, sizeof q.stat, NULL, 0, NULL, 0);
    scribble_stop(started);
    return;
  }
  if (choice == 14) {  /* rename: two paths under /pfz, back to back */
    uint64_t from_at;
    uint32_t from = put_path(s, 1, &from_at);
    if (from > 512 || from_at > s->size - 1100) from = 6, from_at = 0, memcpy(s->buffer, "/pfz/a", 6);
    const char *to = fs_paths[pick(FS_WRITABLE)];
    uint32_t to_len = (uint32_t)strlen(to);
    memcpy(s->buffer + from_at + from, to, to_len);
    q.rename.header.op = APUS_FS_OP_RENAME;
    q.rename.paths_offset = pick(16) ? from_at : edge_number();
    q.rename.paths_len = pick(16) ? from + to_len : (uint32_t)rnd();
    q.rename.from_len = pick(16) ? from : (uint32_t)rnd();
    int started = scribble && scribble_start(s->buffer, s->size);
    call_plain(s, &q.rename, sizeof q.rename, NULL, 0, NULL, 0);
    scribble_stop(started);
    return;
  }
  /* fsync an id, or sync everything */
  q.close.header.op = pick(3) ? APUS_FS_OP_FSYNC : APUS_FS_OP_SYNC;
  q.close.file = some_id();
  call_plain(s, &q.close, q.close.header.op == APUS_FS_OP_SYNC ? sizeof(struct apus_fs_sync_request) : sizeof q.close,
             NULL, 0, NULL, 0);
}

/* ---- net */

static uint32_t net_address(void) {
  static const uint32_t addresses[] = {0x0a000202, 0x0a000202, 0x0a000203, 0x0a00020f, 0x7f000001, 0xffffffff, 0, 0x0a0002ff};
  if (pick(40) == 0) return 0x0a000263; /* on the link, nobody there: ARP waits */
  return pick(12) ? addresses[pick(8)] : (uint32_t)rnd();
}

static void net_step(struct session *s) {
  if (!s->buffer && attach(s, 0) != 0) return;
  union {
    struct apus_net_bind_request bind;
    struct apus_net_send_to_request send;
    struct apus_net_recv_from_request recv;
    struct apus_net_close_request close;
    struct apus_net_ping_request ping;
    struct apus_net_info_request info;
  } q;
  struct apus_net_bind_reply bound;
  memset(&q, 0, sizeof q);
  uint32_t choice = (uint32_t)pick(14);
  if (choice == 0) { attach(s, 0); return; }
  if (choice <= 3) {
    static const uint16_t ports[] = {7, 9, 53, 68, 1024, 1025, 40000, 65535};
    q.bind.header.op = APUS_NET_OP_BIND;
    q.bind.port = pick(3) ? 0 : pick(8) ? ports[pick(8)] : (uint16_t)rnd();
    if (model.held_count == HELD_MAX) {
      struct apus_net_close_request close = {.header = {.op = APUS_NET_OP_CLOSE}, .socket = (uint32_t)model.held[0]};
      call_plain(s, &close, sizeof close, NULL, 0, NULL, 0);
      forget(0);
    }
    if (call_plain(s, &q.bind, sizeof q.bind, NULL, 0, &bound, sizeof bound) == 0) {
      remember(bound.socket, 0);
      counts.sockets++;
    }
    return;
  }
  if (choice <= 6) {
    q.send.header.op = APUS_NET_OP_SEND_TO;
    q.send.socket = (uint32_t)some_id();
    q.send.address = net_address();
    q.send.port = pick(10) ? (uint16_t)(1 + pick(65535)) : 0;
    q.send.length = pick(6) ? (uint32_t)pick(APUS_NET_MAX_DATAGRAM + 1) : data_length(s);
    q.send.buffer_offset = buffer_spot(s, q.send.length);
    int started = pick(4) == 0 && scribble_start(s->buffer, s->size);
    call_plain(s, &q.send, sizeof q.send, NULL, 0, NULL, 0);
    scribble_stop(started);
    return;
  }
  if (choice <= 8) {  /* never a receive that waits for long: dont_wait, or a few ms */
    q.recv.header.op = APUS_NET_OP_RECV_FROM;
    q.recv.socket = (uint32_t)some_id();
    q.recv.flags = pick(3) ? APUS_NET_RECV_FLAGS_DONT_WAIT : 0;
    q.recv.timeout_ms = 1 + (uint32_t)pick(20);
    if (pick(16) == 0) q.recv.flags |= (uint32_t)rnd() & ~1u;
    q.recv.capacity = data_length(s);
    q.recv.buffer_offset = buffer_spot(s, q.recv.capacity);
    call_plain(s, &q.recv, sizeof q.recv, NULL, 0, NULL, 0);
    return;
  }
  if (choice <= 10) {
    q.close.header.op = APUS_NET_OP_CLOSE;
    q.close.socket = (uint32_t)some_id();
    if (call_plain(s, &q.close, sizeof q.close, NULL, 0, NULL, 0) == 0)
      for (uint32_t i = 0; i < model.held_count; i++)
        if (model.held[i] == q.close.socket) { forget(i); break; }
    return;
  }
  if (choice <= 12) {  /* ping, with a small timeout */
    q.ping.header.op = APUS_NET_OP_PING;
    q.ping.address = net_address();
    q.ping.size = pick(8) ? (uint16_t)pick(APUS_NET_MAX_DATAGRAM + 1) : (uint16_t)rnd();
    q.ping.sequence = (uint16_t)rnd();
    q.ping.timeout_ms = 1 + (uint32_t)pick(30);
    call_plain(s, &q.ping, sizeof q.ping, NULL, 0, NULL, 0);
    return;
  }
  q.info.header.op = pick(2) ? APUS_NET_OP_INFO : APUS_NET_OP_STATS;
  call_plain(s, &q.info, sizeof q.info, NULL, 0, NULL, 0);
}

/* ---- block (the scratch disk) */

static void block_step(struct session *s) {
  if (!s->buffer && attach(s, 0) != 0) return;
  union {
    struct apus_block_read_request read;
    struct apus_block_flush_request flush;
    struct apus_block_info_request info;
  } q;
  struct apus_block_info_reply info;
  memset(&q, 0, sizeof q);
  uint32_t choice = (uint32_t)pick(10);
  if (choice == 0) { attach(s, 0); return; }
  if (choice == 1 || !model.block_count) {
    q.info.header.op = APUS_BLOCK_OP_INFO;
    if (call_plain(s, &q.info, sizeof q.info, NULL, 0, &info, sizeof info) == 0) model.block_count = info.block_count;
    return;
  }
  if (choice <= 7) {
    q.read.header.op = choice <= 5 ? APUS_BLOCK_OP_READ : APUS_BLOCK_OP_WRITE;
    q.read.lba = pick(4) ? pick(model.block_count) : pick(2) ? model.block_count - pick(4) : edge_number();
    q.read.count = pick(6) ? (uint32_t)(1 + pick(s->size / 512)) : pick(2) ? 0 : (uint32_t)rnd();
    q.read.flags = pick(4) ? (uint32_t)pick(4) : (uint32_t)rnd();
    q.read.buffer_offset = buffer_spot(s, (uint64_t)q.read.count * 512);
    int started = pick(4) == 0 && scribble_start(s->buffer, s->size);
    call_plain(s, &q.read, sizeof q.read, NULL, 0, NULL, 0);
    scribble_stop(started);
    return;
  }
  q.flush.header.op = APUS_BLOCK_OP_FLUSH;
  q.flush.flags = pick(4) ? (uint32_t)pick(4) : (uint32_t)rnd();
  call_plain(s, &q.flush, sizeof q.flush, NULL, 0, NULL, 0);
}

/* ---- pkg */

static void pkg_step(struct session *s) {
  if (!s->buffer && attach(s, 0) != 0) return;
  static const char *const names[] = {"hello", "udpecho", "nosuch", "", "../x", "a/b", "pfz",
                                      "/README.txt", "/bin/sh", "/nosuch.pkg", "/media/hello-1.0.pkg", "/pfz/a"};
  union {
    struct apus_pkg_list_request list;
    struct apus_pkg_info_request info;
    struct apus_pkg_install_request install;
  } q;
  memset(&q, 0, sizeof q);
  uint32_t choice = (uint32_t)pick(8);
  if (choice == 0) { attach(s, 0); return; }
  if (choice <= 3) {
    q.list.header.op = APUS_PKG_OP_LIST;
    q.list.first = pick(4) ? (uint32_t)pick(4) : (uint32_t)rnd();
    q.list.buffer_len = data_length(s);
    q.list.buffer_offset = buffer_spot(s, q.list.buffer_len);
    int started = pick(3) == 0 && scribble_start(s->buffer, s->size);
    call_plain(s, &q.list, sizeof q.list, NULL, 0, NULL, 0);
    scribble_stop(started);
    return;
  }
  /* info, remove (names) or install (paths): text in the buffer */
  const char *text = names[pick(sizeof names / sizeof *names)];
  uint32_t length = (uint32_t)strlen(text);
  uint64_t at = pick(s->size / 2) & ~7ull;
  memcpy(s->buffer + at, text, length);
  if (pick(10) == 0) length = pick(2) ? 65 + (uint32_t)pick(2000) : (uint32_t)rnd();
  q.info.header.op = choice <= 5 ? APUS_PKG_OP_INFO : choice == 6 ? APUS_PKG_OP_REMOVE : APUS_PKG_OP_INSTALL;
  q.info.name_offset = pick(12) ? at : edge_number();
  q.info.name_len = length;
  if (q.info.header.op == APUS_PKG_OP_INSTALL) q.install.flags = (uint32_t)pick(3);
  int started = pick(4) == 0 && scribble_start(s->buffer, s->size);
  call_plain(s, &q.info, sizeof q.info, NULL, 0, NULL, 0);
  scribble_stop(started);
}

/* ---- registry: lookups with no room (or too little) for the reply's handle, adds of
 * our own names (access_denied with a lookup-only handle). */

static void registry_step(struct session *s) {
  static const char *const names[] = {"fs", "net0", "pkg", "block0", "block1", "svcman", "pfz-0", "pfz-1", "pfz-2",
                                      "pfz-3", "", "nosuch"};
  struct apus_registry_lookup_request q;
  memset(&q, 0, sizeof q);
  const char *name = names[pick(sizeof names / sizeof *names)];
  q.name_len = (uint32_t)strlen(name);
  memcpy(q.name, name, q.name_len);
  if (pick(10) == 0) q.name_len = pick(2) ? APUS_REGISTRY_NAME_MAX + (uint32_t)pick(3) : (uint32_t)rnd();
  if (pick(3)) {
    q.header.op = APUS_REGISTRY_OP_LOOKUP;
    q.flags = pick(20) ? 0 : (uint32_t)rnd() & ~(uint32_t)APUS_REGISTRY_LOOKUP_FLAGS_WAIT; /* never waits here */
    uint64_t handle_cap = pick(3), reply_cap = pick(6) ? 256 : pick(16);
    if (handle_cap == 0) counts.lookups++;
    call_server(s, &q, sizeof q, NULL, 0, NULL, 0, reply_cap, handle_cap);
    return;
  }
  /* add: one of our four names for an endpoint of ours (sometimes none, or read-only) */
  uint32_t slot = (uint32_t)pick(4);
  q.header.op = APUS_REGISTRY_OP_ADD;
  memcpy(q.name, "pfz-", 4);
  q.name[4] = (uint8_t)('0' + slot);
  q.name_len = 5;
  if (model.names[slot] && pick(2)) { apus_handle_close(model.names[slot]); model.names[slot] = 0; }
  if (!model.names[slot]) {
    int64_t made = apus_endpoint_create();
    if (apus_is_error(made)) return;
    model.names[slot] = (apus_handle_t)made;
  }
  uint32_t rights = pick(5) ? APUS_RIGHT_WRITE | APUS_RIGHT_TRANSFER : APUS_RIGHT_TRANSFER;
  int64_t copy = apus_handle_duplicate(model.names[slot], rights);
  uint32_t handle = apus_is_error(copy) ? 0 : (uint32_t)copy;
  int send = handle && pick(8);
  call_plain(s, &q, sizeof q, &handle, send ? 1 : 0, NULL, 0);
  if (handle && !send) apus_handle_close(handle);
}

typedef void (*step_fn)(struct session *s);
static step_fn step_for(const struct apus_fuzz_protocol *protocol) {
  if (strcmp(protocol->name, "fs") == 0) return fs_step;
  if (strcmp(protocol->name, "net") == 0) return net_step;
  if (strcmp(protocol->name, "block") == 0) return block_step;
  if (strcmp(protocol->name, "pkg") == 0) return pkg_step;
  return registry_step;
}
#endif
