/* printf and friends: %d %i %u %x %X %p %s %c %% with l/ll/z length, a width and
 * zero padding. Output goes through debug_write, one call per printf, so lines from
 * different processes do not interleave mid-line. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <apus/syscall.h>

struct sink {
  char *buffer;
  size_t size;
  size_t length;  /* what the full output would take */
};

static void put(struct sink *sink, char c) {
  if (sink->length + 1 < sink->size) sink->buffer[sink->length] = c;
  sink->length++;
}

static void put_number(struct sink *sink, uint64_t value, unsigned base, int negative, int width, char pad, int upper) {
  char digits[24];
  int count = 0;
  const char *table = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    digits[count++] = table[value % base];
    value /= base;
  } while (value);
  if (negative) {
    if (pad == '0') put(sink, '-');
    width--;
  }
  for (int i = count; i < width; i++) put(sink, pad);
  if (negative && pad != '0') put(sink, '-');
  while (count) put(sink, digits[--count]);
}

int vsnprintf(char *buffer, size_t size, const char *format, va_list arguments) {
  struct sink sink = {buffer, size, 0};
  for (const char *p = format; *p; p++) {
    if (*p != '%') {
      put(&sink, *p);
      continue;
    }
    p++;
    char pad = ' ';
    int width = 0, longs = 0;
    if (*p == '0') { pad = '0'; p++; }
    while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
    while (*p == 'l' || *p == 'z') { longs++; p++; }
    switch (*p) {
    case 'd': case 'i': {
      int64_t v = longs ? va_arg(arguments, int64_t) : va_arg(arguments, int);
      put_number(&sink, v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v, 10, v < 0, width, pad, 0);
      break;
    }
    case 'u': case 'x': case 'X': {
      uint64_t v = longs ? va_arg(arguments, uint64_t) : va_arg(arguments, unsigned);
      put_number(&sink, v, *p == 'u' ? 10 : 16, 0, width, pad, *p == 'X');
      break;
    }
    case 'p':
      put(&sink, '0');
      put(&sink, 'x');
      put_number(&sink, (uint64_t)(uintptr_t)va_arg(arguments, void *), 16, 0, width, pad, 0);
      break;
    case 's': {
      const char *s = va_arg(arguments, const char *);
      if (!s) s = "(null)";
      int length = (int)strlen(s);
      for (int i = length; i < width; i++) put(&sink, ' ');
      while (*s) put(&sink, *s++);
      break;
    }
    case 'c':
      put(&sink, (char)va_arg(arguments, int));
      break;
    case '%':
      put(&sink, '%');
      break;
    default:  /* unknown conversion: print it as written */
      put(&sink, '%');
      if (*p) put(&sink, *p); else p--;
    }
  }
  if (size) buffer[sink.length < size ? sink.length : size - 1] = 0;
  return (int)sink.length;
}

int snprintf(char *buffer, size_t size, const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int length = vsnprintf(buffer, size, format, arguments);
  va_end(arguments);
  return length;
}

int printf(const char *format, ...) {
  char line[APUS_DEBUG_WRITE_MAX];
  va_list arguments;
  va_start(arguments, format);
  int length = vsnprintf(line, sizeof line, format, arguments);
  va_end(arguments);
  size_t written = (size_t)length < sizeof line ? (size_t)length : sizeof line - 1;
  apus_debug_write((const uint8_t *)line, written);
  return length;
}

int puts(const char *text) {
  return printf("%s\n", text);
}
