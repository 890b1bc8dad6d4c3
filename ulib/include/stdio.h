/* Formatted output for Apus user programs: everything goes to the kernel console
 * through the debug_write system call. */
#ifndef APUS_STDIO_H
#define APUS_STDIO_H
#include <stdarg.h>
#include <stddef.h>

int printf(const char *format, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char *buffer, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buffer, size_t size, const char *format, va_list arguments);
int puts(const char *text);

#endif
