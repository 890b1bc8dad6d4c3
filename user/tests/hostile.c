/* M3 hostile arguments: every system call fed null, kernel-half, heap-window,
 * unmapped, unaligned, read-only and wrapping pointers, huge lengths, bad handles,
 * wrong handle kinds and unknown numbers. Each must return its documented error
 * (spec/syscall_v0.xml) and the kernel must never panic. Prints SYSCALL: hostile ok
 * only after checking every answer. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <apus/syscall.h>

#define ERR(e) (-(int64_t)(e))
#define KERNEL ((uint64_t)0xffffffff80100000ull)
#define HEAP_WINDOW ((uint64_t)0x00007f8000000000ull)   /* kernel memory in the lower half */
#define NONCANONICAL ((uint64_t)0x0000800000000000ull)
#define UNMAPPED ((uint64_t)0x20000000ull)
#define WRAPPING ((uint64_t)0xfffffffffffffff0ull)

static int checks, failures;

static void expect(const char *what, int64_t got, int64_t want) {
  checks++;
  if (got != want) {
    failures++;
    printf("HOSTILE: %s returned %ld, expected %ld\n", what, got, want);
  }
}

/* A system call by number, bypassing the generated stubs. */
static int64_t raw(uint64_t number, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5) {
  int64_t result;
  register uint64_t r10 __asm__("r10") = a3;
  register uint64_t r8 __asm__("r8") = a4;
  register uint64_t r9 __asm__("r9") = a5;
  __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return result;
}

static void thread_main(uint64_t argument) {
  (void)argument;
  apus_thread_exit(0);
}

static const char read_only[64] = "this string lives in .rodata";
static char big_arguments[5000];

int main(void) {
  static const char hello[] = "HOSTILE: starting\n";
  const uint8_t *text = (const uint8_t *)hello;

  /* debug_write: every bad pointer is a fault; too long is invalid. */
  expect("debug_write null", apus_debug_write(NULL, 4), ERR(APUS_ERR_FAULT));
  expect("debug_write kernel", apus_debug_write((const uint8_t *)KERNEL, 4), ERR(APUS_ERR_FAULT));
  expect("debug_write heap window", apus_debug_write((const uint8_t *)HEAP_WINDOW, 4), ERR(APUS_ERR_FAULT));
  expect("debug_write noncanonical", apus_debug_write((const uint8_t *)NONCANONICAL, 4), ERR(APUS_ERR_FAULT));
  expect("debug_write unmapped", apus_debug_write((const uint8_t *)UNMAPPED, 4), ERR(APUS_ERR_FAULT));
  expect("debug_write wrapping", apus_debug_write((const uint8_t *)WRAPPING, 32), ERR(APUS_ERR_FAULT));
  expect("debug_write 2^63 bytes", apus_debug_write(text, 1ull << 63), ERR(APUS_ERR_FAULT));
  expect("debug_write 2^40 bytes", apus_debug_write(text, 1ull << 40), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("debug_write max+1", apus_debug_write(text, APUS_DEBUG_WRITE_MAX + 1), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("debug_write 0 bytes", apus_debug_write(text, 0), 0);
  expect("debug_write", apus_debug_write(text, sizeof hello - 1), (int64_t)(sizeof hello - 1));

  /* Unknown and removed numbers. */
  /* One past the newest call: update when the spec adds one after ipc_discard. */
  expect("syscall past the last", raw(APUS_SYS_IPC_DISCARD + 1, 0, 0, 0, 0, 0, 0), ERR(APUS_ERR_NO_SUCH_CALL));
  expect("syscall 1000", raw(1000, 0, 0, 0, 0, 0, 0), ERR(APUS_ERR_NO_SUCH_CALL));
  expect("syscall 2^63", raw(1ull << 63, 0, 0, 0, 0, 0, 0), ERR(APUS_ERR_NO_SUCH_CALL));
  expect("syscall -1", raw((uint64_t)-1, 0, 0, 0, 0, 0, 0), ERR(APUS_ERR_NO_SUCH_CALL));

  /* thread_spawn: entry and stack must be fit for a thread. */
  uint8_t *stack = malloc(16384);
  uint64_t top = ((uint64_t)(uintptr_t)stack + 16384) & ~15ull;
  uint64_t entry = (uint64_t)(uintptr_t)thread_main;
  expect("thread_spawn kernel entry", apus_thread_spawn(KERNEL, top, 0), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("thread_spawn unmapped entry", apus_thread_spawn(UNMAPPED, top, 0), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("thread_spawn data as entry", apus_thread_spawn((uint64_t)(uintptr_t)read_only, top, 0), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("thread_spawn unaligned stack", apus_thread_spawn(entry, top - 8, 0), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("thread_spawn kernel stack", apus_thread_spawn(entry, KERNEL, 0), ERR(APUS_ERR_INVALID_ARGUMENT));
  int64_t thread = apus_thread_spawn(entry, top, 0);
  expect("thread_spawn", thread > 0 ? 1 : thread, 1);

  /* process_spawn. */
  static const char child_path[] = "tests/child";
  const uint8_t *child_text = (const uint8_t *)child_path;
  expect("process_spawn null path", apus_process_spawn(NULL, 5, NULL, 0), ERR(APUS_ERR_FAULT));
  expect("process_spawn kernel path", apus_process_spawn((const uint8_t *)KERNEL, 5, NULL, 0), ERR(APUS_ERR_FAULT));
  expect("process_spawn empty path", apus_process_spawn(child_text, 0, NULL, 0), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("process_spawn path 300", apus_process_spawn((const uint8_t *)big_arguments, 300, NULL, 0), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("process_spawn args 5000", apus_process_spawn(child_text, sizeof child_path - 1, (const uint8_t *)big_arguments, 5000), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("process_spawn null args", apus_process_spawn(child_text, sizeof child_path - 1, NULL, 8), ERR(APUS_ERR_FAULT));
  expect("process_spawn missing", apus_process_spawn((const uint8_t *)"no/such", 7, NULL, 0), ERR(APUS_ERR_NOT_FOUND));
  expect("process_spawn not ELF", apus_process_spawn((const uint8_t *)"tests/notelf", 12, NULL, 0), ERR(APUS_ERR_BAD_IMAGE));
  int64_t child = apus_process_spawn(child_text, sizeof child_path - 1, child_text, sizeof child_path);
  expect("process_spawn", child > 0 ? 1 : child, 1);

  /* process_wait: handles, kinds, and where the status may be written. */
  struct apus_process_status status;
  expect("process_wait handle 0", apus_process_wait(0, &status), ERR(APUS_ERR_BAD_HANDLE));
  expect("process_wait handle 999", apus_process_wait(999, &status), ERR(APUS_ERR_BAD_HANDLE));
  expect("process_wait handle 2^40", raw(APUS_SYS_PROCESS_WAIT, 1ull << 40, (uint64_t)(uintptr_t)&status, 0, 0, 0, 0), ERR(APUS_ERR_BAD_HANDLE));
  expect("process_wait on a thread", apus_process_wait((apus_handle_t)thread, &status), ERR(APUS_ERR_WRONG_HANDLE_KIND));
  expect("process_wait null status", apus_process_wait((apus_handle_t)child, NULL), ERR(APUS_ERR_FAULT));
  expect("process_wait unaligned status", apus_process_wait((apus_handle_t)child, (struct apus_process_status *)((char *)&status + 1)), ERR(APUS_ERR_FAULT));
  expect("process_wait kernel status", apus_process_wait((apus_handle_t)child, (struct apus_process_status *)KERNEL), ERR(APUS_ERR_FAULT));
  expect("process_wait read-only status", apus_process_wait((apus_handle_t)child, (struct apus_process_status *)read_only), ERR(APUS_ERR_FAULT));
  expect("process_wait", apus_process_wait((apus_handle_t)child, &status), 0);
  expect("child exit code", status.code, 7);

  /* handle_close: once, and only once. */
  expect("handle_close 0", apus_handle_close(0), ERR(APUS_ERR_BAD_HANDLE));
  expect("handle_close 65", apus_handle_close(65), ERR(APUS_ERR_BAD_HANDLE));
  expect("handle_close child", apus_handle_close((apus_handle_t)child), 0);
  expect("handle_close child again", apus_handle_close((apus_handle_t)child), ERR(APUS_ERR_BAD_HANDLE));

  /* vm_map and vm_unmap. */
  apus_vm_prot_t rw = APUS_VM_PROT_READ | APUS_VM_PROT_WRITE;
  expect("vm_map length 0", apus_vm_map(0, 0, rw, 0), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("vm_map length 4095", apus_vm_map(0, 4095, rw, 0), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("vm_map unaligned fixed", apus_vm_map(0x10001001, 4096, rw, APUS_VM_MAP_FLAGS_FIXED), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("vm_map writable+executable", apus_vm_map(0, 4096, rw | APUS_VM_PROT_EXECUTE, 0), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("vm_map unknown prot bit", apus_vm_map(0, 4096, 0x80, 0), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("vm_map unknown flag", apus_vm_map(0, 4096, rw, 0x10), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("vm_map fixed kernel", apus_vm_map(KERNEL, 4096, rw, APUS_VM_MAP_FLAGS_FIXED), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("vm_map fixed heap window", apus_vm_map(HEAP_WINDOW, 4096, rw, APUS_VM_MAP_FLAGS_FIXED), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("vm_map fixed over text", apus_vm_map(0x400000, 4096, rw, APUS_VM_MAP_FLAGS_FIXED), ERR(APUS_ERR_ADDRESS_IN_USE));
  expect("vm_map 64 TiB", apus_vm_map(0, 1ull << 46, rw, 0), ERR(APUS_ERR_NO_MEMORY));
  int64_t mapped = apus_vm_map(0, 8192, rw, 0);
  expect("vm_map", mapped > 0 ? 1 : mapped, 1);
  if (mapped > 0) {
    memset((void *)(uintptr_t)mapped, 0x5a, 8192);
    expect("vm_map memory is usable", ((uint8_t *)(uintptr_t)mapped)[8191], 0x5a);
  }
  expect("vm_unmap kernel", apus_vm_unmap(KERNEL, 4096), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("vm_unmap unaligned", apus_vm_unmap((uint64_t)mapped + 1, 4096), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("vm_unmap length 4095", apus_vm_unmap((uint64_t)mapped, 4095), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("vm_unmap", apus_vm_unmap((uint64_t)mapped, 8192), 0);

  /* Shared memory and IPC are M4's: not implemented, after their handle checks. */
  expect("shm_create 0 bytes", apus_shm_create(0), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("shm_create 100 bytes", apus_shm_create(100), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("shm_create 2^62 bytes", apus_shm_create(1ull << 62), ERR(APUS_ERR_NO_MEMORY));
  int64_t shm = apus_shm_create(4096);
  expect("shm_create", shm > 0 ? 1 : shm, 1);
  expect("shm_map unaligned", apus_shm_map((apus_handle_t)shm, 0x123, rw), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("shm_map over the kernel", apus_shm_map((apus_handle_t)shm, KERNEL & ~0xfffull, rw), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("shm_map write and execute", apus_shm_map((apus_handle_t)shm, 0, rw | APUS_VM_PROT_EXECUTE), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect("ipc_send on an shm", apus_ipc_send((apus_handle_t)shm, text, 4, NULL, 0), ERR(APUS_ERR_WRONG_HANDLE_KIND));
  expect("close the shm", apus_handle_close((apus_handle_t)shm), 0);
  expect("shm_map handle 0", apus_shm_map(0, 0, rw), ERR(APUS_ERR_BAD_HANDLE));
  expect("shm_map on a thread", apus_shm_map((apus_handle_t)thread, 0, rw), ERR(APUS_ERR_WRONG_HANDLE_KIND));
  int64_t endpoint = apus_endpoint_create();
  expect("endpoint_create", endpoint > 0 ? 1 : endpoint, 1);
  expect("ipc_recv into the kernel", apus_ipc_recv((apus_handle_t)endpoint, (uint8_t *)KERNEL, 8, NULL, 0, NULL), ERR(APUS_ERR_FAULT));
  expect("ipc_send 2^63 bytes", apus_ipc_send((apus_handle_t)endpoint, text, 1ull << 63, NULL, 0), ERR(APUS_ERR_FAULT));
  expect("shm_map on an endpoint", apus_shm_map((apus_handle_t)endpoint, 0, rw), ERR(APUS_ERR_WRONG_HANDLE_KIND));
  expect("close the endpoint", apus_handle_close((apus_handle_t)endpoint), 0);
  expect("ipc_send handle 0", apus_ipc_send(0, text, 4, NULL, 0), ERR(APUS_ERR_BAD_HANDLE));
  expect("ipc_recv on a thread", apus_ipc_recv((apus_handle_t)thread, NULL, 0, NULL, 0, NULL), ERR(APUS_ERR_WRONG_HANDLE_KIND));
  expect("handle_close thread", apus_handle_close((apus_handle_t)thread), 0);

  if (failures) {
    printf("SYSCALL: hostile FAILED failures=%d of %d checks\n", failures, checks);
    return 1;
  }
  printf("SYSCALL: hostile ok checks=%d\n", checks);
  return 0;
}
