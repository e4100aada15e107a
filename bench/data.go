package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/megasend/megasend/recipient"
)

// csvHeader matches testdata/templates/order_paid.json's variables.
const csvHeader = "openid,name,product,amount,paid_at,order_no\n"

// userRow is recipient i as a CSV record (no newline): a distinct 28
// character openid and the values a shop would send, Chinese included.
func userRow(dst []byte, i int) []byte {
	dst = append(dst, 'o')
	id := strconv.Itoa(i)
	for range 27 - len(id) {
		dst = append(dst, '0')
	}
	dst = append(dst, id...)
	dst = append(dst, ",用户"...)
	dst = append(dst, id...)
	dst = append(dst, ",商品"...)
	dst = append(dst, id...)
	dst = append(dst, ',')
	dst = append(dst, id...)
	dst = append(dst, ".00,2024年3月1日 10:15,SO"...)
	return append(dst, id...)
}

// userVars is recipient i as a parsed row, for the ceiling client.
func userVars(i int) recipient.Row {
	id := strconv.Itoa(i)
	return recipient.Row{Line: i + 2, OpenID: fmt.Sprintf("o%027d", i), Vars: []recipient.Var{
		{Name: "name", Value: "用户" + id}, {Name: "product", Value: "商品" + id}, {Name: "amount", Value: id + ".00"},
		{Name: "paid_at", Value: "2024年3月1日 10:15"}, {Name: "order_no", Value: "SO" + id},
	}}
}

// writeUsers writes n recipients to name in the scratch directory, once:
// scenarios of the same size share the file.
func (b *bench) writeUsers(n int) (string, error) {
	path := filepath.Join(b.dir, fmt.Sprintf("users-%d.csv", n))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(csvHeader)
	var line []byte
	for i := range n {
		line = append(userRow(line[:0], i), '\n')
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// deliveryTimes reads the times of a sandbox deliveries file, in order.
func deliveryTimes(path string) ([]time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var times []time.Time
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var d struct {
			Time time.Time `json:"time"`
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		times = append(times, d.Time)
	}
	return times, sc.Err()
}
