// Command bootstrap runs the admin endpoint group as an AWS Lambda function
// (provided.al2023); see shared/lambdahttp and template.yaml.
package main

import (
	"spass/functions/admin"
	"spass/shared/lambdahttp"
)

func main() { lambdahttp.Main(admin.New) }
