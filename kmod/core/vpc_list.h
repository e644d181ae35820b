/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_list.h: one doubly linked list with head and tail, as macros (the
 * shape of sys/queue.h's TAILQ, which the core cannot include: it includes
 * no OS header, and glibc's copy lacks the _SAFE iterators).  O(1) insert
 * at either end and removal of any element; the element embeds its links,
 * so nothing is allocated.  Used by the registry, the upcall queue and the
 * host kernel's connection and handle lists.
 *
 *	struct thing { ...; VPC_LIST_LINK(thing) link; };
 *	VPC_LIST_HEAD(things, thing) all;          (zeroed = empty)
 *	VPC_LIST_INSERT_TAIL(&all, t, link);
 *	VPC_LIST_FOREACH(t, &all, link) ...
 *	VPC_LIST_REMOVE(&all, t, link);
 *
 * No locking: the caller holds whatever protects the list.
 */
#ifndef _VPC_LIST_H_
#define _VPC_LIST_H_

#define VPC_LIST_HEAD(name, type)                                       \
	struct name {                                                   \
		struct type *first;                                     \
		struct type *last;                                      \
	}

#define VPC_LIST_LINK(type)                                             \
	struct {                                                        \
		struct type *prev;                                      \
		struct type *next;                                      \
	}

#define VPC_LIST_FIRST(head)            ((head)->first)
#define VPC_LIST_LAST(head)             ((head)->last)
#define VPC_LIST_EMPTY(head)            ((head)->first == NULL)
#define VPC_LIST_NEXT(elm, field)       ((elm)->field.next)
#define VPC_LIST_PREV(elm, field)       ((elm)->field.prev)

#define VPC_LIST_INSERT_TAIL(head, elm, field) do {                     \
	(elm)->field.next = NULL;                                       \
	(elm)->field.prev = (head)->last;                               \
	if ((head)->last != NULL)                                       \
		(head)->last->field.next = (elm);                       \
	else                                                            \
		(head)->first = (elm);                                  \
	(head)->last = (elm);                                           \
} while (0)

#define VPC_LIST_INSERT_HEAD(head, elm, field) do {                     \
	(elm)->field.prev = NULL;                                       \
	(elm)->field.next = (head)->first;                              \
	if ((head)->first != NULL)                                      \
		(head)->first->field.prev = (elm);                      \
	else                                                            \
		(head)->last = (elm);                                   \
	(head)->first = (elm);                                          \
} while (0)

/* The element's links are cleared, so a second removal is detectable. */
#define VPC_LIST_REMOVE(head, elm, field) do {                          \
	if ((elm)->field.prev != NULL)                                  \
		(elm)->field.prev->field.next = (elm)->field.next;      \
	else                                                            \
		(head)->first = (elm)->field.next;                      \
	if ((elm)->field.next != NULL)                                  \
		(elm)->field.next->field.prev = (elm)->field.prev;      \
	else                                                            \
		(head)->last = (elm)->field.prev;                       \
	(elm)->field.prev = (elm)->field.next = NULL;                   \
} while (0)

#define VPC_LIST_FOREACH(var, head, field)                              \
	for ((var) = (head)->first; (var) != NULL; (var) = (var)->field.next)

/* The body may remove (and free) var. */
#define VPC_LIST_FOREACH_SAFE(var, head, field, tmp)                    \
	for ((var) = (head)->first;                                     \
	    (var) != NULL && ((tmp) = (var)->field.next, 1);            \
	    (var) = (tmp))

#define VPC_LIST_FOREACH_REVERSE(var, head, field)                      \
	for ((var) = (head)->last; (var) != NULL; (var) = (var)->field.prev)

#endif /* _VPC_LIST_H_ */
