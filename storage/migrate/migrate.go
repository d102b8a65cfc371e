package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// DefaultBatchSize is the page size when Options.BatchSize is zero.
const DefaultBatchSize = 500

var (
	// ErrNotEmpty: the destination already holds records and Options.Resume is not set.
	ErrNotEmpty = errors.New("migrate: the destination already holds records")
	// ErrCountMismatch: after the copy, a model's source and destination counts differ.
	ErrCountMismatch = errors.New("migrate: source and destination counts differ")
)

// Options configure Copy. The zero value gives the defaults.
type Options struct {
	// BatchSize is how many records are read and written at a time (DefaultBatchSize).
	BatchSize int
	// Resume allows a non-empty destination: records whose id it already has are skipped.
	Resume bool
	// Progress, when set, receives one line per model as it is copied.
	Progress io.Writer
}

// ModelReport is the outcome of one model.
type ModelReport struct {
	Model       string
	Source      int // records in the source
	Copied      int // records written by this run
	Skipped     int // records the destination already had (Resume)
	Destination int // records in the destination afterwards
}

// Report is the outcome of a Copy, one entry per model in schema order.
type Report struct {
	Models []ModelReport
}

// OK reports whether every model has as many records in the destination as in the source.
func (r Report) OK() bool {
	for _, m := range r.Models {
		if m.Source != m.Destination {
			return false
		}
	}
	return true
}

// Print writes the verification table.
func (r Report) Print(w io.Writer) {
	fmt.Fprintf(w, "%-24s %10s %10s %10s %12s  %s\n", "model", "source", "copied", "skipped", "destination", "")
	for _, m := range r.Models {
		status := "ok"
		if m.Source != m.Destination {
			status = "MISMATCH"
		}
		fmt.Fprintf(w, "%-24s %10d %10d %10d %12d  %s\n", m.Model, m.Source, m.Copied, m.Skipped, m.Destination, status)
	}
}

// Copy copies every record of every model of src's schema to dst and verifies the counts.
// src and dst must be bound to schemas with the same models (normally the same schema). The
// report is returned also with an error, as far as it got.
func Copy(ctx context.Context, src, dst storage.Adapter, opts Options) (Report, error) {
	batch := opts.BatchSize
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	models := src.Schema().Models()
	for _, m := range models {
		if _, ok := dst.Schema().Model(m.Name); !ok {
			return Report{}, fmt.Errorf("migrate: the destination schema has no model %q", m.Name)
		}
	}
	if !opts.Resume {
		var nonEmpty []string
		for _, m := range models {
			n, err := dst.Count(ctx, m.Name, storage.Where{})
			if err != nil {
				return Report{}, fmt.Errorf("migrate: counting %s in the destination: %w", m.Name, err)
			}
			if n > 0 {
				nonEmpty = append(nonEmpty, fmt.Sprintf("%s (%d)", m.Name, n))
			}
		}
		if len(nonEmpty) > 0 {
			return Report{}, fmt.Errorf("%w: %v; use --resume to finish an interrupted copy into it (existing ids are kept as they are), or empty it", ErrNotEmpty, nonEmpty)
		}
	}
	var rep Report
	err := src.View(ctx, func(view storage.Adapter) error {
		for _, m := range models {
			mr, err := copyModel(ctx, view, dst, m.Name, batch)
			rep.Models = append(rep.Models, mr)
			if err != nil {
				return err
			}
			if opts.Progress != nil {
				fmt.Fprintf(opts.Progress, "copied %s: %d records (%d already there)\n", m.Name, mr.Copied, mr.Skipped)
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if !rep.OK() {
		return rep, ErrCountMismatch
	}
	return rep, nil
}

func copyModel(ctx context.Context, src, dst storage.Adapter, model string, batch int) (ModelReport, error) {
	mr := ModelReport{Model: model}
	var err error
	if mr.Source, err = src.Count(ctx, model, storage.Where{}); err != nil {
		return mr, fmt.Errorf("migrate: counting %s in the source: %w", model, err)
	}
	last := ""
	for first := true; ; first = false {
		q := storage.Query{Sort: []storage.SortField{{Field: "id"}}, Limit: batch}
		if !first {
			q.Where = storage.Gt("id", last)
		}
		recs, err := src.FindMany(ctx, model, q)
		if err != nil {
			return mr, fmt.Errorf("migrate: reading %s: %w", model, err)
		}
		if len(recs) == 0 {
			break
		}
		var copied, skipped int
		err = dst.Tx(ctx, func(tx storage.Adapter) error {
			copied, skipped = 0, 0
			for _, r := range recs {
				_, err := tx.Create(ctx, model, r)
				if err == nil {
					copied++
					continue
				}
				if errors.Is(err, storage.ErrDuplicate) {
					if _, ferr := tx.FindOne(ctx, model, storage.ByID(r.ID())); ferr == nil {
						skipped++
						continue
					}
				}
				return fmt.Errorf("migrate: writing %s %q: %w", model, r.ID(), err)
			}
			return nil
		})
		if err != nil {
			return mr, err
		}
		mr.Copied += copied
		mr.Skipped += skipped
		last = recs[len(recs)-1].ID()
		if len(recs) < batch {
			break
		}
	}
	if mr.Destination, err = dst.Count(ctx, model, storage.Where{}); err != nil {
		return mr, fmt.Errorf("migrate: counting %s in the destination: %w", model, err)
	}
	return mr, nil
}
