package template

import (
	"errors"
	"strings"
	"testing"
)

func TestCategoryOf(t *testing.T) {
	tests := []struct {
		name, key, want string
	}{
		{"thing", "thing1", "thing"},
		{"two digits", "thing12", "thing"},
		{"character_string", "character_string12", "character_string"},
		{"phone_number", "phone_number3", "phone_number"},
		{"car_number", "car_number4", "car_number"},
		{"legacy keyword", "keyword1", ""},
		{"first", "first", ""},
		{"remark", "remark", ""},
		{"bare type name is legacy", "name", ""},
		{"bare amount is legacy", "amount", ""},
		{"unknown type", "short_thing5", ""},
		{"const", "const6", ""},
		{"digits only", "12", ""},
		{"empty", "", ""},
		{"suffix letters", "thing1a", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CategoryOf(tt.key); got != tt.want {
				t.Errorf("CategoryOf(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

func TestCheckCategoryValue(t *testing.T) {
	tests := []struct {
		name  string
		key   string
		value string
		ok    bool
	}{
		{"legacy long value", "keyword1", strings.Repeat("长", 40), true},
		{"legacy empty", "keyword1", "", true},

		{"thing 24 latin", "thing1", "Apple iPhone 15 Pro 256G", false},
		{"thing chinese", "thing1", "深圳市南山区科技园店", true},
		{"thing mixed 20", "thing1", "华为Mate60 Pro手机壳（黑色）", true},
		{"thing 21", "thing1", strings.Repeat("货", 21), false},
		{"thing newline", "thing1", "第一行\n第二行", false},
		{"thing empty", "thing1", "", false},

		{"number int", "number2", "42", true},
		{"number decimal", "number2", "3.1415", true},
		{"number 32", "number2", strings.Repeat("9", 32), true},
		{"number 33", "number2", strings.Repeat("9", 33), false},
		{"number letters", "number2", "12a", false},
		{"number two dots", "number2", "1.2.3", false},
		{"number trailing dot", "number2", "12.", false},

		{"letter ok", "letter3", "ABCdef", true},
		{"letter digit", "letter3", "ABC1", false},
		{"letter 33", "letter3", strings.Repeat("a", 33), false},

		{"symbol ok", "symbol4", "+-*/", true},
		{"symbol 6", "symbol4", "!!!!!!", false},
		{"symbol letter", "symbol4", "a", false},

		{"character_string order no", "character_string5", "SO-20240301-0042", true},
		{"character_string 32", "character_string5", strings.Repeat("x", 32), true},
		{"character_string 33", "character_string5", strings.Repeat("x", 33), false},
		{"character_string chinese", "character_string5", "单号123", false},

		{"time clock", "time6", "15:01", true},
		{"time seconds", "time6", "15:01:59", true},
		{"time cn date", "time6", "2019年10月1日 15:01", true},
		{"time cn date no space", "time6", "2019年10月1日15:01", true},
		{"time iso date", "time6", "2019-10-01 15:01", true},
		{"time range", "time6", "15:01~16:30", true},
		{"time range dates", "time6", "2019-10-01 15:01 ~ 2019-10-02 09:00", true},
		{"time hour 24", "time6", "24:00", false},
		{"time no clock", "time6", "2019年10月1日", false},
		{"time words", "time6", "下午三点", false},

		{"date cn", "date7", "2019年10月1日", true},
		{"date no year", "date7", "10月1日", true},
		{"date iso", "date7", "2019-10-01", true},
		{"date slash", "date7", "2019/10/01", true},
		{"date with time", "date7", "2019年10月1日 15:01", true},
		{"date range", "date7", "2019年10月1日~2019年10月7日", true},
		{"date range to clock", "date7", "2019-10-01 09:00~17:00", true},
		{"date month 13", "date7", "2019-13-01", false},
		{"date clock only", "date7", "15:01", false},
		{"date words", "date7", "明天", false},

		{"amount plain", "amount8", "39.8", true},
		{"amount yuan", "amount8", "39.8元", true},
		{"amount yen sign", "amount8", "¥39.80", true},
		{"amount fullwidth sign", "amount8", "￥1299", true},
		{"amount dollar", "amount8", "$5", true},
		{"amount 10 digits", "amount8", "12345678.90", true},
		{"amount 11 digits", "amount8", "123456789.01", false},
		{"amount two signs", "amount8", "¥¥5", false},
		{"amount thousands", "amount8", "1,299.00", false},
		{"amount negative", "amount8", "-5", false},
		{"amount words", "amount8", "免费", false},

		{"phone ok", "phone_number9", "+86-0766-66888866", true},
		{"phone spaces", "phone_number9", "138 0013 8000", true},
		{"phone 18", "phone_number9", "+86-0766-668888661", false},
		{"phone letters", "phone_number9", "call me", false},

		{"car ok", "car_number10", "粤A8Z888挂", true},
		{"car plain", "car_number10", "京A12345", true},
		{"car 9", "car_number10", "粤A8Z8888挂", false},
		{"car han inside", "car_number10", "粤A粤888", false},

		{"name cn", "name11", "张三", true},
		{"name cn dot", "name11", "买买提·艾力", true},
		{"name en", "name11", "John Smith", true},
		{"name cn 11", "name11", "张三李四王五赵六钱七孙", false},
		{"name en 21", "name11", strings.Repeat("a", 21), false},
		{"name digits", "name11", "张三1", false},

		{"phrase ok", "phrase12", "配送中", true},
		{"phrase 5", "phrase12", "已经签收了", true},
		{"phrase 7", "phrase12", "正在配送中请稍", false},
		{"phrase letters", "phrase12", "OK", false},
		{"phrase space", "phrase12", "配送 中", false},
		{"phrase empty", "phrase12", "", false},
		{"phrase invalid utf8", "phrase12", "\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckCategoryValue(tt.key, tt.value)
			if tt.ok {
				if err != nil {
					t.Fatalf("CheckCategoryValue(%q, %q) = %v, want nil", tt.key, tt.value, err)
				}
				return
			}
			var ve *ValueError
			if !errors.As(err, &ve) {
				t.Fatalf("CheckCategoryValue(%q, %q) = %v, want *ValueError", tt.key, tt.value, err)
			}
			if ve.Key != tt.key || ve.Type != CategoryOf(tt.key) || ve.Reason == "" {
				t.Errorf("ValueError = %+v, want key %q type %q and a reason", ve, tt.key, CategoryOf(tt.key))
			}
		})
	}
}

func TestValueError_Error(t *testing.T) {
	err := CheckCategoryValue("phrase3", "正在配送中请稍")
	want := "phrase3 (phrase): at most 5 characters, got 7"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
