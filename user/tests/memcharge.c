/* Kernel memory a program causes is charged to it (tests/user/test_memory_charge.py):
 *  - shm: shared memory objects count against their maker's 256 MiB user memory limit
 *    until they die, mapped or not, wherever their handles went. This program (an
 *    ordinary one) makes unmapped 4 MiB objects until refused: no_memory before
 *    256 MiB, not when the machine's memory runs out (the old kernel let it take all
 *    of it); one object handed to another program stays charged to this one until
 *    that program lets it go; meanwhile another program still gets memory.
 *  - process_spawn_image: the image is read in place from the caller's pages, with no
 *    kernel heap copy. Two fillers take user memory down to 8 MiB; a 48 MiB image (a
 *    tiny ELF at its start) still starts, where the old kernel's 48 MiB heap copy did
 *    not fit (no_memory).
 * Everything is given back (the boot's MM lines check it). */
#include "testlib.h"

#define MIB ((uint64_t)1024 * 1024)
#define CHUNK (4 * MIB)

static const char self[] = "tests/memcharge";

/* `other`: another program, while this one holds all it may: 1 MiB of shm and of
 * anonymous memory, written. */
static int other_program(void) {
  int64_t shm = apus_shm_create(MIB);
  if (apus_is_error(shm)) return 2;
  int64_t at = apus_shm_map((apus_handle_t)shm, 0, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE);
  if (apus_is_error(at)) return 3;
  memset((void *)(uintptr_t)at, 0x5a, MIB);
  int64_t more = apus_vm_map(0, MIB, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE, 0);
  if (apus_is_error(more)) return 4;
  memset((void *)(uintptr_t)more, 0xa5, MIB);
  return 0;
}

/* `holder`: keeps the shm handle it was given (handle 2) until a message arrives on
 * handle 1 (its endpoint, read); then exits, and the object dies with its handle. */
static int holder(void) {
  struct apus_handle_info info;
  if (apus_handle_info(2, &info) != 0 || info.kind != APUS_HANDLE_KIND_SHM) return 2;
  uint64_t word;
  struct apus_ipc_recv_info got;
  apus_ipc_recv(1, (uint8_t *)&word, sizeof word, NULL, 0, &got);
  return 0;
}

/* `fill` / `fill8`: maps 4 MiB at a time until refused (fill8 then gives 8 MiB
 * back), reports the MiB it holds on handle 1 (an endpoint, write), and waits to be
 * killed. */
static int filler(int give_back) {
  uint64_t chunks[128];
  uint64_t count = 0;
  while (count < 128) {
    int64_t at = apus_vm_map(0, CHUNK, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE, 0);
    if (apus_is_error(at)) break;
    chunks[count++] = (uint64_t)at;
  }
  for (int i = 0; i < give_back && count > 0; i++) apus_vm_unmap(chunks[--count], CHUNK);
  uint64_t held = count * CHUNK / MIB;
  apus_ipc_send(1, (const uint8_t *)&held, sizeof held, NULL, 0);
  int64_t nothing = apus_endpoint_create();
  uint64_t word;
  struct apus_ipc_recv_info info;
  apus_ipc_recv((apus_handle_t)nothing, (uint8_t *)&word, sizeof word, NULL, 0, &info);
  return 2;  /* not reached: killed */
}

static struct apus_system_info snapshot(void) {
  struct apus_system_info info;
  memset(&info, 0, sizeof info);
  apus_system_info(&info);
  return info;
}

/* The shm half: returns nothing, counts its checks. */
static void shm_charged(void) {
  static uint32_t objects[128];
  int made = 0;
  int64_t refused = 0;
  while (made < 128) {
    int64_t shm = apus_shm_create(CHUNK);
    if (apus_is_error(shm)) { refused = shm; break; }
    objects[made++] = (uint32_t)shm;
  }
  uint64_t total = (uint64_t)made * CHUNK;
  printf("MEMCHARGE: %lu MiB of unmapped shm made, then %ld\n", total / MIB, refused);
  expect_eq("refused with no_memory", refused, ERR(APUS_ERR_NO_MEMORY));
  expect_true("under the 256 MiB limit", total < 256 * MIB);
  expect_true("at the limit, not before", total >= 256 * MIB - 2 * CHUNK);
  expect_eq("another program still gets memory", end_status(start_case(self, "other")), 0);

  /* One object handed to another program (and our handle closed): still ours. */
  int64_t endpoint = apus_endpoint_create();
  struct apus_handle_grant grants[2] = {
    {(uint32_t)endpoint, APUS_RIGHT_READ}, {objects[made - 1], APUS_RIGHT_READ | APUS_RIGHT_WRITE},
  };
  int64_t keeper = start_case_with(self, "holder", grants, 2);
  expect_true("start the holder", keeper > 0);
  apus_handle_close(objects[--made]);
  expect_eq("the handed-over object is still charged to us", apus_shm_create(CHUNK), ERR(APUS_ERR_NO_MEMORY));
  uint64_t word = 1;
  expect_eq("let the holder go", apus_ipc_send((apus_handle_t)endpoint, (const uint8_t *)&word, sizeof word, NULL, 0), 0);
  expect_eq("the holder exits", end_status(keeper), 0);
  apus_handle_close((apus_handle_t)endpoint);
  int64_t again = apus_shm_create(CHUNK);
  expect_true("its death gave the charge back", !apus_is_error(again));
  if (!apus_is_error(again)) apus_handle_close((apus_handle_t)again);
  while (made > 0) apus_handle_close(objects[--made]);
}

/* A static ELF that exits 7: the header, one PT_LOAD of the first page (read,
 * execute) and `mov edi, 7; mov eax, process_exit; syscall; ud2` after the headers. */
static void tiny_elf(uint8_t *image) {
  const uint64_t base = 0x400000, code = 64 + 56;
  memset(image, 0, 4096);
  memcpy(image, "\x7f" "ELF", 4);
  image[4] = 2; image[5] = 1; image[6] = 1;
  *(uint16_t *)(image + 16) = 2;    /* ET_EXEC */
  *(uint16_t *)(image + 18) = 62;   /* x86-64 */
  *(uint32_t *)(image + 20) = 1;
  *(uint64_t *)(image + 24) = base + code;
  *(uint64_t *)(image + 32) = 64;   /* program headers */
  *(uint16_t *)(image + 52) = 64;
  *(uint16_t *)(image + 54) = 56;
  *(uint16_t *)(image + 56) = 1;
  uint8_t *header = image + 64;
  *(uint32_t *)(header + 0) = 1;    /* PT_LOAD */
  *(uint32_t *)(header + 4) = 5;    /* read, execute */
  *(uint64_t *)(header + 8) = 0;
  *(uint64_t *)(header + 16) = base;
  *(uint64_t *)(header + 32) = 4096;
  *(uint64_t *)(header + 40) = 4096;
  uint8_t *at = image + code;
  *at++ = 0xbf; *(uint32_t *)at = 7; at += 4;                       /* mov edi, 7 */
  *at++ = 0xb8; *(uint32_t *)at = APUS_SYS_PROCESS_EXIT; at += 4;   /* mov eax, n */
  *at++ = 0x0f; *at++ = 0x05;                                       /* syscall */
  *at++ = 0x0f; *at++ = 0x0b;                                       /* ud2 */
}

/* The spawn_image half. */
static void spawn_image_uncopied(void) {
  const uint64_t size = 48 * MIB;
  int64_t image = apus_shm_create(size);
  expect_true("a 48 MiB image object", !apus_is_error(image));
  if (apus_is_error(image)) return;
  int64_t at = apus_shm_map((apus_handle_t)image, 0, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE);
  expect_true("map it", !apus_is_error(at));
  if (apus_is_error(at)) return;
  tiny_elf((uint8_t *)(uintptr_t)at);
  static const char args[] = "tiny";
  expect_eq("the image starts with room to spare", end_status(apus_process_spawn_image((apus_handle_t)image, size,
            (const uint8_t *)args, sizeof args, NULL, 0)), 7);

  /* Two fillers take user memory down to 8 MiB. */
  int64_t endpoint = apus_endpoint_create();
  struct apus_handle_grant grant = {(uint32_t)endpoint, APUS_RIGHT_WRITE};
  int64_t first = start_case_with(self, "fill", &grant, 1);
  uint64_t held[2] = {0, 0};
  struct apus_ipc_recv_info info;
  apus_ipc_recv((apus_handle_t)endpoint, (uint8_t *)&held[0], 8, NULL, 0, &info);
  int64_t second = start_case_with(self, "fill8", &grant, 1);
  apus_ipc_recv((apus_handle_t)endpoint, (uint8_t *)&held[1], 8, NULL, 0, &info);
  printf("MEMCHARGE: fillers hold %lu and %lu MiB; %lu pages free\n", held[0], held[1], snapshot().free_pages);
  expect_true("the fillers took what there was", first > 0 && second > 0 && held[1] < 256);

  int64_t child = apus_process_spawn_image((apus_handle_t)image, size, (const uint8_t *)args, sizeof args, NULL, 0);
  expect_true("a 48 MiB image starts with 8 MiB of user memory left", !apus_is_error(child));
  if (apus_is_error(child)) printf("MEMCHARGE: process_spawn_image returned %ld\n", child);
  else expect_eq("and runs", end_status(child), 7);

  apus_process_kill((apus_handle_t)first);
  apus_process_kill((apus_handle_t)second);
  expect_eq("the first filler was killed", end_status(first), 100 + APUS_EXIT_REASON_KILLED);
  expect_eq("the second filler was killed", end_status(second), 100 + APUS_EXIT_REASON_KILLED);
  apus_handle_close((apus_handle_t)endpoint);
  apus_vm_unmap((uint64_t)at, size);
  apus_handle_close((apus_handle_t)image);
}

int main(int argc, char **argv) {
  test_name = "MEMCHARGE";
  if (argc > 1 && strcmp(argv[1], "other") == 0) return other_program();
  if (argc > 1 && strcmp(argv[1], "holder") == 0) return holder();
  if (argc > 1 && strcmp(argv[1], "fill") == 0) return filler(0);
  if (argc > 1 && strcmp(argv[1], "fill8") == 0) return filler(2);

  shm_charged();
  spawn_image_uncopied();
  expect_eq("another program still runs", end_status(start_case(self, "other")), 0);
  return finish("memory charged");
}
