// Package engine carries out the storage contract on top of a transactional record store:
// input normalization, which record an operation acts on, on-delete rules, per-operation
// atomicity inside transactions, transactions themselves and error wrapping. The memory and
// bolt adapters supply only a [Backend] (how records are found, stored, indexed and rolled
// back), so both follow the contract identically by construction and every decision has one
// place. It is internal: the contract is package storage, and a SQL adapter would implement
// it directly.
package engine
