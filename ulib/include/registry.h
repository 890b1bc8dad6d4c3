/* The service registry from C (spec/registry.xml; svcman serves it). A program that
 * init started holds the registry endpoint as handle REGISTRY_HANDLE; a parent passes
 * it on with process_spawn_handles. Each function returns the protocol status
 * (APUS_REGISTRY_STATUS_*, 0 = ok) or a negated APUS_ERR_* when the call itself failed. */
#ifndef APUS_REGISTRY_CLIENT_H
#define APUS_REGISTRY_CLIENT_H
#include <stdint.h>
#include <apus/syscall.h>
#include <apus/registry.h>

#define REGISTRY_HANDLE ((apus_handle_t)1)

/* Registers `name` for `endpoint` (moved to the registry: pass a duplicate with write
 * and transfer to keep yours). Needs a registry handle with manage, which init gives
 * only to the servers it supervises and to init=tool= programs: an ordinary program
 * gets access_denied. */
int64_t registry_add(apus_handle_t registry, const char *name, apus_handle_t endpoint);

/* Looks `name` up; on ok, *endpoint is a write-only handle to its server. With
 * APUS_REGISTRY_LOOKUP_FLAGS_WAIT, waits until a server adds the name (or restarts:
 * a dead server's name is reserved for it). Device names (block0, ...) are not found
 * through a handle without manage. */
int64_t registry_lookup(apus_handle_t registry, const char *name, uint32_t flags, apus_handle_t *endpoint);
#endif
