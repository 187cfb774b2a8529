package tools

import "testing"

func TestReadableText(t *testing.T) {
	tests := []struct {
		name, doc, title, text string
	}{
		{"plain words", "hello   world", "", "hello world"},
		{"uppercase tags and script", "<HTML><HEAD><TITLE>T</TITLE></HEAD><BODY><SCRIPT>alert(1)</SCRIPT><P>Body</P></BODY></HTML>", "T", "Body"},
		{"a literal less-than", "<p>a < b and 1<2</p>", "", "a < b and 1<2"},
		{"quoted > inside an attribute", `<a title="x > y" href='/'>link</a> after`, "", "link after"},
		{"comment hides markup", "<p>a<!-- <p>hidden</p> -->b</p>", "", "ab"},
		{"unterminated comment", "<p>a</p><!-- never closed <p>b</p>", "", "a"},
		{"unterminated tag", "<p>text</p><div class=\"x", "", "text"},
		{"unterminated script", "<p>before</p><script>var x = 1;", "", "before"},
		{"doctype and CDATA", "<!DOCTYPE html><?xml version=\"1.0\"?><p>x</p>", "", "x"},
		{"entities", "<p>&lt;b&gt; &amp;amp; &#39;q&#39; &euro;5 &#x1F600;</p>", "", "<b> &amp; 'q' €5 😀"},
		{"headings and lists", "<h2>Sub</h2><ol><li>a</li><li></li><li>b</li></ol>", "", "## Sub\n- a\n- b"},
		{"table cells", "<table><tr><th>k</th><th>v</th></tr><tr><td>1</td><td>2</td></tr></table>", "", "k | v\n1 | 2"},
		{"line breaks", "one<br>two<br/>three", "", "one\ntwo\nthree"},
		{"blank lines dropped", "<div>\n\n  <div>  x  </div>\n\n\n</div>", "", "x"},
		{"style and svg dropped", "<style>p{}</style><svg><title>icon</title><path/></svg>text", "", "text"},
		{"first title wins", "<title> A\n title </title><title>B</title>", "A title", ""},
		{"invalid tag start", "< p>x</ p>", "", "< p>x</ p>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			title, text := readableText(tc.doc)
			if title != tc.title || text != tc.text {
				t.Errorf("got (%q, %q), want (%q, %q)", title, text, tc.title, tc.text)
			}
		})
	}
}
