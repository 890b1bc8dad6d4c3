/* CPU state a user program controls, against the kernel's entry and exit paths (issue
 * 9's audit; docs/design.md "CPU state a user program controls" lists each with its
 * reason). Each case runs in a process of its own (tests/cpustate CASE) and either
 * survives the hostile state, exiting 0, or dies alone of the fault it asked for; the
 * parent checks which. A kernel panic fails the whole boot. */
#include "testlib.h"

#define FLAG_TF (1ull << 8)
#define FLAG_DF (1ull << 10)
#define FLAG_IOPL (3ull << 12)
#define FLAG_NT (1ull << 14)
#define FLAG_AC (1ull << 18)

static uint64_t read_flags(void) {
  uint64_t flags;
  __asm__ volatile("pushfq; popq %0" : "=r"(flags));
  return flags;
}

static void write_flags(uint64_t flags) { __asm__ volatile("pushq %0; popfq" : : "r"(flags) : "cc", "memory"); }

/* Blocks in the kernel and takes interrupts with the flags as they are. */
static void enter_the_kernel_every_way(void) {
  for (int i = 0; i < 20; i++) apus_yield();
  int64_t child = apus_process_spawn((const uint8_t *)"tests/child", 11, NULL, 0);
  struct apus_process_status status;
  if (!apus_is_error(child)) {
    apus_process_wait((apus_handle_t)child, &status);  /* blocks: a switch with these flags */
    apus_handle_close((apus_handle_t)child);
  }
  for (volatile uint64_t i = 0; i < 30000000; i++) {}  /* timer interrupts from ring 3 */
}

static int run(const char *name) {
  if (strcmp(name, "nt") == 0) {  /* defect 10: NT reached the kernel's IRETQ */
    write_flags(read_flags() | FLAG_NT);
    enter_the_kernel_every_way();
    return (read_flags() & FLAG_NT) ? 0 : 2;  /* the program's own flag comes back */
  }
  if (strcmp(name, "ac") == 0) {  /* AC would lift SMAP for the kernel */
    write_flags(read_flags() | FLAG_AC);
    enter_the_kernel_every_way();
    int64_t wrote = apus_debug_write((const uint8_t *)0xffffffff80100000ull, 8);  /* kernel text */
    return wrote == ERR(APUS_ERR_FAULT) ? 0 : 2;
  }
  if (strcmp(name, "df") == 0) {  /* DF: the kernel's copies must still run forwards */
    static const char text[] = "CPUSTATE: df copy ok\n";
    __asm__ volatile("std");
    int64_t wrote = apus_debug_write((const uint8_t *)text, sizeof text - 1);
    __asm__ volatile("cld");
    return wrote == (int64_t)(sizeof text - 1) ? 0 : 2;
  }
  if (strcmp(name, "tf") == 0) {  /* single-step: a #DB in ring 3, never in the kernel */
    write_flags(read_flags() | FLAG_TF);
    apus_yield();
    return 0;  /* not reached: the trap after popf kills the process */
  }
  if (strcmp(name, "iopl") == 0) {  /* POPF cannot raise IOPL in ring 3: port I/O faults */
    write_flags(read_flags() | FLAG_IOPL);
    __asm__ volatile("outb %%al, $0x80" : : "a"(0));
    return 0;  /* not reached */
  }
  if (strcmp(name, "compat") == 0) {  /* defect 11: no 32-bit code segment to enter */
    /* A far jump through memory, not a far return: TCG reads a far return's stack
     * with supervisor rights, which SMAP turns into a page fault first. */
    static struct __attribute__((packed)) { uint64_t rip; uint16_t cs; } target;
    target.rip = (uint64_t)(uintptr_t)&&after;
    target.cs = 0x1b;  /* GDT slot 3 | RPL 3: where a 32-bit user code segment would be */
    __asm__ volatile("ljmpq *(%0)" : : "r"(&target) : "memory");
  after:
    return 0;  /* not reached: the far return faults */
  }
  if (strcmp(name, "stack") == 0) {  /* SYSCALL with a nonsense rsp: the kernel uses its own */
    int64_t result;
    __asm__ volatile("movq %%rsp, %%rbx; movabsq $0xffff800000001000, %%rsp; syscall; movq %%rbx, %%rsp"
                     : "=a"(result) : "a"((uint64_t)APUS_SYS_YIELD) : "rbx", "rcx", "r11", "memory");
    return result == 0 ? 0 : 2;
  }
  if (strcmp(name, "segments") == 0) {  /* null data selectors: harmless to the kernel */
    __asm__ volatile("movw %w0, %%ds; movw %w0, %%es; movw %w0, %%fs; movw %w0, %%gs" : : "r"(0));
    enter_the_kernel_every_way();
    return 0;
  }
  if (strcmp(name, "gsbase") == 0) {  /* no FSGSBASE for user mode: #UD, not a new GS */
    __asm__ volatile("wrgsbase %0" : : "r"(0xffffffff80000000ull));
    return 0;  /* not reached */
  }
  if (strcmp(name, "debugreg") == 0) {  /* debug registers are privileged */
    __asm__ volatile("movq %0, %%dr7" : : "r"(0x1ull));
    return 0;  /* not reached */
  }
  if (strcmp(name, "mxcsr") == 0) {  /* unmasked SSE exceptions stay with this thread */
    uint32_t unmasked = 0x0000;  /* every exception unmasked */
    __asm__ volatile("ldmxcsr %0" : : "m"(unmasked));
    enter_the_kernel_every_way();
    uint32_t now;
    __asm__ volatile("stmxcsr %0" : "=m"(now));
    return now == unmasked ? 0 : 2;
  }
  return 99;
}

struct expectation { const char *name; apus_exit_reason_t reason; int64_t code; };

static const struct expectation cases[] = {
  {"nt", APUS_EXIT_REASON_EXITED, 0},
  {"ac", APUS_EXIT_REASON_EXITED, 0},
  {"df", APUS_EXIT_REASON_EXITED, 0},
  {"tf", APUS_EXIT_REASON_KILLED, 0},
  {"iopl", APUS_EXIT_REASON_GENERAL_PROTECTION, 0},
  {"compat", APUS_EXIT_REASON_GENERAL_PROTECTION, 0},
  {"stack", APUS_EXIT_REASON_EXITED, 0},
  {"segments", APUS_EXIT_REASON_EXITED, 0},
  {"gsbase", APUS_EXIT_REASON_INVALID_OPCODE, 0},
  {"debugreg", APUS_EXIT_REASON_GENERAL_PROTECTION, 0},
  {"mxcsr", APUS_EXIT_REASON_EXITED, 0},
};

int main(int argc, char **argv) {
  test_name = "CPUSTATE";
  if (argc > 1) return run(argv[1]);
  for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct apus_process_status status;
    int64_t got = run_case("tests/cpustate", cases[i].name, &status);
    expect_eq(cases[i].name, got, 0);
    if (got != 0) continue;
    if (status.reason != cases[i].reason || status.code != cases[i].code) {
      printf("CPUSTATE: %s ended reason=%u code=%ld, expected reason=%u code=%ld\n", cases[i].name, status.reason,
             status.code, cases[i].reason, cases[i].code);
      test_failures++;
    }
  }
  return finish("entry and exit paths");
}
