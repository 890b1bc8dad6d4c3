/* Started by init as the "driver" of a virtio-blk disk (init=driver=1af4:1042=
 * tests/devgrants), so it holds a real device handle (2) and checks each grant's
 * rules against it: the right each call needs, the MSI-X table BAR refused, ranges
 * and sizes checked, DMA memory contiguous and its physical address told. Then, like
 * a driver, it sends the start handshake (handle 3) and serves until init stops it
 * (here: it waits on an endpoint nobody sends to). */
#include "testlib.h"

#define DEVICE ((apus_handle_t)2)
#define READY ((apus_handle_t)3)
#define ALL (APUS_RIGHT_READ | APUS_RIGHT_MAP | APUS_RIGHT_INTERRUPT | APUS_RIGHT_DMA)

int main(void) {
  test_name = "DEVGRANTS";
  struct apus_device_info info;
  expect_eq("device_info", apus_device_info(DEVICE, &info), 0);
  expect_eq("vendor", info.vendor, 0x1af4);
  expect_true("MSI-X", (info.interrupts & APUS_DEVICE_INTERRUPTS_MSIX) != 0);
  int table_bar = -1, registers_bar = -1;
  uint8_t config[256];
  expect_eq("configuration space", apus_device_config_read(DEVICE, 0, config, sizeof config), 0);
  expect_eq("configuration space: vendor", config[0] | config[1] << 8, 0x1af4);
  for (int at = config[0x34] & 0xfc, steps = 0; at >= 0x40 && steps < 48; at = config[at + 1] & 0xfc, steps++) {
    if (config[at] == 0x11) table_bar = config[at + 4] & 7;                              /* MSI-X: table BIR */
    if (config[at] == 0x09 && config[at + 3] == 1) registers_bar = config[at + 4];       /* virtio common cfg */
  }
  expect_true("found the MSI-X table's BAR and the registers' BAR", table_bar >= 0 && registers_bar >= 0 && table_bar != registers_bar);

  /* Ranges. */
  expect_eq("config read past 4 KiB", apus_device_config_read(DEVICE, 4095, config, 2), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect_eq("config read of the last byte", apus_device_config_read(DEVICE, 4095, config, 1), 0);
  expect_eq("BAR 6", apus_device_map_bar(DEVICE, 6, 0), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect_eq("the MSI-X table's BAR", apus_device_map_bar(DEVICE, (uint32_t)table_bar, 0), ERR(APUS_ERR_ACCESS_DENIED));
  expect_eq("an unaligned address", apus_device_map_bar(DEVICE, (uint32_t)registers_bar, 0x123), ERR(APUS_ERR_INVALID_ARGUMENT));
  int absent = -1;
  for (int bar = 0; bar < 6 && absent < 0; bar++) if (info.bar_size[bar] == 0) absent = bar;
  expect_eq("an absent BAR", apus_device_map_bar(DEVICE, (uint32_t)absent, 0), ERR(APUS_ERR_INVALID_ARGUMENT));
  int64_t registers = apus_device_map_bar(DEVICE, (uint32_t)registers_bar, 0);
  expect_true("map the registers' BAR", !apus_is_error(registers));
  if (!apus_is_error(registers)) {
    volatile uint32_t *common = (volatile uint32_t *)(uintptr_t)registers;
    (void)common[0]; /* readable: the device answers, no fault */
    expect_eq("unmap it", apus_vm_unmap((uint64_t)registers, info.bar_size[registers_bar]), 0);
  }
  int64_t endpoint = apus_endpoint_create();
  expect_eq("interrupt key 64", apus_device_irq_bind(DEVICE, (apus_handle_t)endpoint, 64), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect_eq("acknowledge before binding", apus_device_irq_ack(DEVICE), ERR(APUS_ERR_NOT_FOUND));
  int64_t read_only = apus_handle_duplicate((apus_handle_t)endpoint, APUS_RIGHT_READ);
  expect_eq("bind to an endpoint without write", apus_device_irq_bind(DEVICE, (apus_handle_t)read_only, 0), ERR(APUS_ERR_ACCESS_DENIED));
  expect_eq("bind", apus_device_irq_bind(DEVICE, (apus_handle_t)endpoint, 5), 0);
  expect_eq("bind again (replaces)", apus_device_irq_bind(DEVICE, (apus_handle_t)endpoint, 6), 0);
  expect_eq("acknowledge", apus_device_irq_ack(DEVICE), 0);

  struct apus_dma_placement placed;
  expect_eq("DMA of 0 bytes", apus_device_dma_alloc(DEVICE, 0, &placed), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect_eq("DMA of 100 bytes", apus_device_dma_alloc(DEVICE, 100, &placed), ERR(APUS_ERR_INVALID_ARGUMENT));
  expect_eq("DMA over the maximum", apus_device_dma_alloc(DEVICE, APUS_DMA_ALLOC_MAX + 4096, &placed), ERR(APUS_ERR_INVALID_ARGUMENT));
  int64_t dma = apus_device_dma_alloc(DEVICE, 64 << 10, &placed);
  expect_true("64 KiB of DMA memory", !apus_is_error(dma));
  expect_true("its physical address is page-aligned and its size told",
              placed.physical != 0 && placed.physical % 4096 == 0 && placed.size == 64 << 10);
  struct apus_handle_info described;
  expect_eq("handle_info of it", apus_handle_info((apus_handle_t)dma, &described), 0);
  expect_true("shared memory of 64 KiB", described.kind == APUS_HANDLE_KIND_SHM && described.size == 64 << 10);
  int64_t mapped = apus_shm_map((apus_handle_t)dma, 0, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE);
  expect_true("map it", !apus_is_error(mapped));
  if (!apus_is_error(mapped)) {
    uint64_t sum = 0;
    for (uint64_t *word = (uint64_t *)(uintptr_t)mapped; word < (uint64_t *)(uintptr_t)(mapped + (64 << 10)); word++) sum |= *word;
    expect_eq("zeroed", (int64_t)sum, 0);
  }

  /* Each call needs its right. */
  struct { const char *what; uint32_t lacking; } cases[] = {
    {"read", APUS_RIGHT_READ}, {"map", APUS_RIGHT_MAP}, {"interrupt", APUS_RIGHT_INTERRUPT}, {"dma", APUS_RIGHT_DMA},
  };
  for (unsigned i = 0; i < 4; i++) {
    int64_t weaker = apus_handle_duplicate(DEVICE, ALL & ~cases[i].lacking);
    apus_handle_t handle = (apus_handle_t)weaker;
    int64_t denied = ERR(APUS_ERR_ACCESS_DENIED);
    switch (cases[i].lacking) {
    case APUS_RIGHT_READ:
      expect_eq("config read without read", apus_device_config_read(handle, 0, config, 4), denied);
      expect_eq("device_info without read", apus_device_info(handle, &info), denied);
      break;
    case APUS_RIGHT_MAP:
      expect_eq("map a BAR without map", apus_device_map_bar(handle, (uint32_t)registers_bar, 0), denied);
      break;
    case APUS_RIGHT_INTERRUPT:
      expect_eq("bind without interrupt", apus_device_irq_bind(handle, (apus_handle_t)endpoint, 0), denied);
      expect_eq("acknowledge without interrupt", apus_device_irq_ack(handle), denied);
      break;
    default:
      expect_eq("DMA without dma", apus_device_dma_alloc(handle, 4096, &placed), denied);
      break;
    }
    apus_handle_close(handle);
  }
  struct apus_device_info ignored;
  expect_eq("device_open through the device handle", apus_device_open(DEVICE, 0, &ignored), ERR(APUS_ERR_WRONG_HANDLE_KIND));
  int verdict = finish("device grants");
  uint64_t note = 1;
  apus_ipc_send(READY, (const uint8_t *)&note, sizeof note, NULL, 0);
  struct apus_ipc_recv_info received;
  apus_ipc_recv((apus_handle_t)endpoint, (uint8_t *)&note, sizeof note, NULL, 0, &received);
  return verdict;
}
