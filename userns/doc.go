// Package userns owns the rootless user namespace: the user's subordinate id
// ranges (/etc/subuid, /etc/subgid, getsubids), the id mappings built from
// them and written by newuidmap/newgidmap, and the per-user keeper process
// that holds the user and mount namespace in which storage is mounted.
//
// Every sandbox process joins the keeper before the Go runtime starts (see
// package prerun); Enter creates the keeper when there is none and re-executes
// the process so that the join happens. This package must not import
// storage: it runs before storage can be opened.
package userns
