package recipient_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/megasend/megasend/recipient"
)

// A caller validates the whole file in one pass: it keeps calling Next after
// a row's error, collects every problem, and stops only at io.EOF (which
// follows a fatal error too).
func ExampleReader() {
	users := "openid,name,amount\n" +
		"oRmDq5Jm3Ynl9XCdtgQ7Kz1abcdX,Alice,12.50\n" +
		",Bob,3.00\n" +
		"oRmDq5Jm3Ynl9XCdtgQ7Kz1wxyzX,Carol\n" +
		"oRmDq5Jm3Ynl9XCdtgQ7Kz1efghX,\"Dave, Jr.\",7.00\n"

	r, err := recipient.NewReader(strings.NewReader(users), recipient.Options{Name: "users.csv"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("variables:", r.Columns())
	var problems []error
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		var le *recipient.LineError
		if errors.As(err, &le) {
			problems = append(problems, le)
			continue
		}
		name, _ := row.Lookup("name")
		fmt.Printf("line %d: %s %s\n", row.Line, row.OpenID, name)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	// Output:
	// variables: [name amount]
	// line 2: oRmDq5Jm3Ynl9XCdtgQ7Kz1abcdX Alice
	// line 5: oRmDq5Jm3Ynl9XCdtgQ7Kz1efghX Dave, Jr.
	// users.csv:3: openid: empty
	// users.csv:4: 2 fields, header has 3
}

// The failed-recipients export: the original variables plus errcode and
// errmsg, in a file that can be fed straight back in.
func ExampleWriter() {
	w, err := recipient.NewWriter(os.Stdout, recipient.FormatCSV, []string{"name", "errcode", "errmsg"})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = w.Write("oRmDq5Jm3Ynl9XCdtgQ7Kz1abcdX", []recipient.Var{
		{Name: "name", Value: "Alice"},
		{Name: "errcode", Value: "43004"},
		{Name: "errmsg", Value: "require subscribe, rid: 6560d2b3"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := w.Flush(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// openid,name,errcode,errmsg
	// oRmDq5Jm3Ynl9XCdtgQ7Kz1abcdX,Alice,43004,"require subscribe, rid: 6560d2b3"
}
