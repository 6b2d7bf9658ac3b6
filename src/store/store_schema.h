/* Migrations from src/store/schema/, embedded at build time. */
#ifndef WSUSD_STORE_STORE_SCHEMA_H
#define WSUSD_STORE_STORE_SCHEMA_H

/* store_migrations[i] moves the schema from version i to i + 1. */
extern const char *const store_migrations[];
extern const unsigned store_nmigrations;

#endif
